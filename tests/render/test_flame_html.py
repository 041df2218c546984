"""The page without a browser: encoding, escaping, fragments, recordings."""

from __future__ import annotations

import json
import re

import pytest

from pinkclinic.jsonio import write_json
from pinkclinic.profile import build_profile, from_stacks
from pinkclinic.render import script_json
from pinkclinic.render.flame import flame_fragment, render_flame_html, write_flame_report
from pinkclinic.render.flame_data import ALPHABET, decode_varints, encode, varints
from tests.render.profiles import HOSTILE, HOSTILE_FILE, shop_profile
from tests.reports import assert_offline_csp


def decode_stacks(data):
    """Rebuild {(thread, frame names): weight} from the compact encoding, as the JS does."""
    pops, frame = decode_varints(data["pops"]), decode_varints(data["frame"])
    parents, path = [], []
    for i, k in enumerate(pops):
        del path[len(path) - k:]
        parents.append(path[-1] if path else -1)
        path.append(i)
    names = [data["strings"][data["frames"][4 * f]] for f in range(len(data["frames"]) // 4)]
    out = {}
    stride = 4 if data["counts"] else 3
    s = decode_varints(data["samples"])
    node = 0
    for i in range(0, len(s), stride):
        t, delta, w = s[i:i + 3]
        node += delta
        n, frames = node - 1, []
        while n >= 0:
            frames.append(names[frame[n]])
            n = parents[n]
        out[(t, tuple(reversed(frames)))] = w
    return out


def test_encoding_round_trips():
    p = shop_profile()
    data = encode(p)
    assert decode_stacks(data) == {(t, tuple(p.frames[f].function for f in st)): v[0]
                                   for (t, st), v in p.stacks.items()}
    fr = data["frames"]
    names = [data["strings"][fr[4 * i]] for i in range(len(fr) // 4)]
    assert sorted(names) == sorted(f.function for f in p.frames)
    assert names[0] in ("Server.run", "BaseEventLoop._run_once")  # most used first
    assert data["areas"] == ["app", "deps:starlette", "deps:uvicorn", "stdlib", "idle"]


def test_seconds_are_scaled_integers_and_bytes_keep_counts():
    p = from_stacks([([("f", "/a.py", 1)], 0.0125, 3, 1, 1)], unit="seconds")
    data = encode(p)
    assert data["scale"] == 1e-6 and decode_varints(data["samples"]) == [0, 1, 12500]
    p = from_stacks([([("f", "/a.py", 1)], 4096, 3, 1, 1)], unit="bytes")
    assert decode_varints(encode(p)["samples"]) == [0, 1, 4096, 3]


def test_varints_round_trip():
    values = [0, 1, 31, 32, 1023, 1024, 32767, 32768, 2**40 + 5, 7]
    assert decode_varints(varints(values)) == values
    assert set(varints(range(5000))) <= set(ALPHABET)


def _script_bodies(html):
    return re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)


def test_every_target_string_is_escaped():
    html = render_flame_html(shop_profile())
    assert HOSTILE not in html
    assert "<img" not in html and "<b>evil" not in html
    # the data survives intact inside its script element
    m = re.search(r'<script type="application/json" id="flame-data">(.*?)</script>', html, re.S)
    data = json.loads(m.group(1))
    assert HOSTILE in data["strings"] and HOSTILE_FILE in data["strings"]
    # exactly the scripts we put there: data, the widget, the mount call
    assert len(_script_bodies(html)) == 3
    assert_offline_csp(html)
    assert "&lt;/script&gt;&lt;img" in html  # the title, escaped by jinja


def test_script_json_escapes_markup_and_line_separators():
    text = str(script_json({"a": "</script><!-- \u2028 & >"}))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- \u2028 & >"}


def test_two_fragments_on_one_page():
    p = shop_profile()
    a = str(flame_fragment(p, dom_id="stalls", heading="Stall stacks"))
    b = str(flame_fragment(p, dom_id="heap", with_assets=False))
    assert 'id="stalls-data"' in a and 'id="heap-data"' in b
    assert "PinkFlame" in a and "window.PinkFlame = {" not in b
    with pytest.raises(ValueError):
        flame_fragment(p, dom_id='x" onclick="')


def test_report_from_a_recording_folder(tmp_path):
    rec = tmp_path / "42.pinkclinic-flame"
    rec.mkdir()
    write_json(rec / "manifest.json", {
        "schema_version": 1, "kind": "flame", "name": "42", "command": ["python", "s.py"],
        "options": {"rate": 100}, "target": {"pid": 42}, "status": {"outcome": "target-crashed",
                                                                   "detail": "exit 1"},
        "streams": {"pyspy": {"file": "pyspy.speedscope.json", "format": "speedscope",
                              "rate_hz": 100}}})
    # py-spy never wrote its file (killed): still a report, with the reason
    p = build_profile(rec)
    assert p.total() == 0 and p.meta["warnings"]
    out = write_flame_report(p, tmp_path / "42.pinkclinic-flame.html")
    html = out.read_text()
    assert "py-spy wrote no profile" in html and "target-crashed" in html
    (rec / "pyspy.speedscope.json").write_text(json.dumps({
        "$schema": "x", "shared": {"frames": [{"name": "work", "file": "/s.py", "line": 3}]},
        "profiles": [{"type": "sampled", "name": "Thread 42 \"MainThread\"", "unit": "seconds",
                      "startValue": 0, "endValue": 0.02, "samples": [[0], [0]],
                      "weights": [0.01, 0.01]}]}, separators=(",", ":")))
    p = build_profile(rec)
    assert p.total() == 2 and p.threads[0].pid == 42 and p.meta["rate_hz"] == 100
