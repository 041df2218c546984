"""Read a speedscope file's sampled profiles as *aggregated* stacks, in bounded memory.

py-spy writes compact JSON (``"samples":[[9,8,7],[9,8]],"weights":[0.01,0.01]``):
a 1M-sample file is ~100 MB, and ``json.load`` on it takes ~8 s and ~750 MB.
This reader streams the file in chunks, counts each distinct ``samples`` entry
by its bytes (regex + dict, no per-sample lists), and parses only the small rest
(the "skeleton": frames and profile headers) with ``json``. Any layout it does not
recognise (pretty-printed files, evented profiles) falls back to ``json.load``.

``read_speedscope(path)`` returns ``(doc, profiles)`` where ``doc`` is the parsed
skeleton and ``profiles[i]`` is ``{stack (tuple of frame indices): [weight, count]}``
for ``doc["profiles"][i]``. ``read_speedscope_ordered(path)`` also returns the time
order, for exports: ``orders[i]`` is an ``array`` of indices into ``list(profiles[i])``
(4 bytes a sample), one per sample.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter

import orjson

CHUNK = 8 << 20
_KEYS = (b'"samples":[', b'"weights":[')


class _Index(dict):
    """bytes -> index, a new key getting the next one (first-seen order)."""

    def __missing__(self, key: bytes) -> int:
        n = self[key] = len(self)
        return n


class _Layout(Exception):
    """The file is not laid out the way py-spy writes it."""


def read_speedscope(path) -> tuple[dict, list[dict[tuple[int, ...], list]]]:
    try:
        return _read_streaming(path)
    except (_Layout, ValueError, UnicodeDecodeError):
        return _read_json(path)


def read_speedscope_ordered(path) -> tuple[dict, list[dict], list[array]]:
    try:
        return _read_streaming(path, order=True)
    except (_Layout, ValueError, UnicodeDecodeError):
        return _read_json(path, order=True)


def _read_json(path, order: bool = False):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out, orders = [], []
    for prof in doc.get("profiles", []):
        agg: dict[tuple[int, ...], list] = {}
        index: dict[tuple[int, ...], int] = {}
        seq = array("I")
        samples = prof.get("samples") or []
        weights = prof.get("weights") or [1] * len(samples)
        for s, w in zip(samples, weights, strict=False):
            key = tuple(s)
            cur = agg.get(key)
            if cur is None:
                agg[key] = [w, 1]
                index[key] = len(index)
            else:
                cur[0] += w
                cur[1] += 1
            if order:
                seq.append(index[key])
        out.append(agg)
        orders.append(seq)
    return (doc, out, orders) if order else (doc, out)


def _read_streaming(path, order: bool = False):
    skeleton: list[bytes] = []
    results: list[list] = []  # per profile: [Counter of sample bytes, weight tokens, n weights]
    orders: list[array] = []   # per profile, with ``order``: the samples as key indices
    indexes: list[_Index] = []  # per profile, with ``order``: sample bytes -> key index
    index: dict[bytes, int] = {}
    seq = array("I")
    mode = 0  # 0 skeleton, 1 samples, 2 weights
    counts: Counter = Counter()
    wtoks: set[bytes] = set()
    nweights = 0
    wtail = b""
    buf = b""
    pos = 0
    clear = 0  # buf[:clear] holds no "]]" (searched already): the samples' end is after it
    eof = False
    need = True  # the current mode cannot progress without more bytes
    with open(path, "rb") as f:
        while True:
            if not eof and (need or len(buf) - pos < CHUNK // 2):
                more = f.read(CHUNK)
                eof = not more
                buf = buf[pos:] + more
                clear = max(0, clear - pos)
                pos = 0
            need = False
            if mode == 0:
                hits = [(i, n) for n, k in enumerate(_KEYS) if (i := buf.find(k, pos)) >= 0]
                if not hits:
                    if eof:
                        skeleton.append(buf[pos:])
                        break
                    keep = max(pos, len(buf) - 16)
                    skeleton.append(buf[pos:keep])
                    pos, need = keep, True
                    continue
                i, n = min(hits)
                skeleton.append(buf[pos:i + len(_KEYS[n])] + b"]")
                pos = i + len(_KEYS[n])
                if n == 0:
                    counts = Counter()
                    results.append([counts, None, 0])
                    index, seq = _Index(), array("I")
                    orders.append(seq)
                    indexes.append(index)
                    mode, clear = 1, 0
                    if buf[pos:pos + 1] == b"]":
                        pos += 1
                        mode = 0
                else:
                    if not results or results[-1][1] is not None:
                        raise _Layout("weights without samples")
                    wtoks, nweights, wtail, mode = set(), 0, b"", 2
            elif mode == 1:
                # the samples "[1,2],[3],...,[4]]": take whole "[...]," items, split, count
                end = buf.find(b"]]", max(pos, clear - 1))
                if end < 0:
                    clear = len(buf)
                if end >= 0:
                    start, stop, pos, mode = pos, end, end + 2, 0
                else:
                    cut = buf.rfind(b"],", pos)
                    if cut < 0:
                        if eof:
                            raise _Layout("samples array not closed")
                        need = True
                        continue
                    start, stop, pos = pos, cut, cut + 2
                if buf[start:start + 1] != b"[":
                    raise _Layout("unexpected bytes between samples")
                inner = buf[start + 1:stop]
                if inner.translate(None, b"0123456789,[]"):
                    raise _Layout("unexpected bytes between samples")
                found = inner.split(b"],[")
                if order:  # one lookup a sample: a new key gets the next index (__missing__)
                    seq.fromlist(list(map(index.__getitem__, found)))  # ~20% < extend
                else:
                    counts.update(found)  # a Counter keeps first-seen order
            else:
                close = buf.find(b"]", pos)
                text = wtail + (buf[pos:] if close < 0 else buf[pos:close])
                if close < 0:
                    if eof:
                        raise _Layout("weights array not closed")
                    cut = text.rfind(b",")
                    wtail, text = text[cut + 1:], text[:max(cut, 0)]
                    pos, need = len(buf), True
                else:
                    wtail, pos = b"", close + 1
                if text.strip():  # all equal (py-spy's 1/rate): one token repeated, in C
                    k = text.count(b",") + 1
                    tok = text[:text.find(b",")] if k > 1 else text
                    if text != (tok + b",") * (k - 1) + tok:
                        raise _Layout("weights differ between samples")
                    nweights += k
                    wtoks.add(tok)
                    if len(wtoks) > 1:
                        raise _Layout("weights differ between samples")
                if close >= 0:
                    results[-1][1:] = [wtoks, nweights]
                    mode = 0
    try:  # the skeleton holds every frame's name and file: orjson is ~3x json's speed
        doc = orjson.loads(b"".join(skeleton))
    except orjson.JSONDecodeError:  # what only json reads (NaN, huge integers)
        doc = json.loads(b"".join(skeleton))
    profiles = doc.get("profiles")
    if not isinstance(profiles, list) or len(profiles) != len(results):
        raise _Layout("profiles and sample arrays do not line up")
    if order:  # the counts from the time order: the keys in first-seen order, as Counter
        for res, idx, sq in zip(results, indexes, orders, strict=True):
            per = [0] * len(idx)  # indices are 0..n-1: a list beats a Counter ~2.5x
            for i in sq.tolist():
                per[i] += 1
            res[0] = dict(zip(idx, per, strict=True))
    out = []
    for prof, (counts, wtoks, nweights) in zip(profiles, results, strict=True):
        if prof.get("type") != "sampled":
            raise _Layout("not a sampled profile")
        n = sum(counts.values())
        if wtoks and nweights != n:
            raise _Layout("samples and weights differ in length")
        w = float(next(iter(wtoks))) if wtoks else 1.0
        keys = list(counts)
        # digits, commas and brackets only (checked above): orjson parses them ~5x faster
        blob = b"[[" + b"],[".join(keys) + b"]]"
        if keys and not blob.count(b"[") == blob.count(b"]") == len(keys) + 1:
            raise _Layout("nested arrays in samples")
        stacks = orjson.loads(blob) if keys else []
        out.append({tuple(st): [c * w, c] for st, c in zip(stacks, counts.values(), strict=True)})
    return (doc, out, orders) if order else (doc, out)
