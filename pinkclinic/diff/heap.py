"""The heap part of a diff: leak sites matched across two heap recordings, and the peak.

Sites are matched by (function, file), from each recording's ``heap.json`` (written by
``pinkclinic heap``; re-made by ``pinkclinic report``): a site flagged in BASE and not in
NEW is ``fixed``, one flagged only in NEW is ``new``, one in both ``persisting``.
"""

from __future__ import annotations

from pinkclinic.diff.sides import analysed
from pinkclinic.recording import HEAP_RESULT, Recording


def heap_result(rec: Recording) -> dict:
    return analysed(rec, HEAP_RESULT)


def _sites(result: dict) -> dict[tuple[str, str], dict]:
    return {(s.get("function"), s.get("file")): s for s in result.get("suspects") or []}


def heap_diff(base: Recording, new: Recording) -> dict:
    hb, hn = heap_result(base), heap_result(new)
    sb, sn = _sites(hb), _sites(hn)
    leaks = []
    for key in sorted(set(sb) | set(sn), key=lambda k: (str(k[0]), str(k[1]))):
        b, n = sb.get(key), sn.get(key)
        leaks.append({"function": key[0], "file": key[1], "line": (n or b).get("line"),
                      "status": "fixed" if n is None else ("new" if b is None else "persisting"),
                      "base_bytes_per_request": b and b.get("bytes_per_request"),
                      "new_bytes_per_request": n and n.get("bytes_per_request"),
                      "base_growth_bytes": b and b.get("growth_bytes"),
                      "new_growth_bytes": n and n.get("growth_bytes")})
    pb, pn = (hb.get("peak") or {}).get("bytes"), (hn.get("peak") or {}).get("bytes")
    return {"leaks": leaks,
            "peak": {"base_bytes": pb, "new_bytes": pn,
                     "change": round((pn - pb) / pb, 4) if pb and pn is not None else None},
            "status": {"base": (hb.get("leaks") or {}).get("status"),
                       "new": (hn.get("leaks") or {}).get("status")}}
