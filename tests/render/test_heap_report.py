"""The heap report escapes every string from the target: function and file names, the
command line, the working directory. Rendered from a synthetic heap analysis (the strings
cannot all be made to appear through a real memray run), opened in a real chromium."""

from __future__ import annotations

import pytest

from pinkclinic.heap.analyse import _analyse
from pinkclinic.heap.growth import MAX_GRID
from pinkclinic.heap.recording import diagnosis_document
from pinkclinic.recording import Recording
from pinkclinic.render.heap import write_heap_report
from tests.heap.synth import open_capture, record
from tests.reports import assert_offline_csp, flame_functions, table_rows

FUNC = '</script><img src=x onerror="document.title=\'pwned\'">'
FILE = "/srv/<b>evil</b>&amp;/app.py"
ARG = "--x=</script><script>alert(1)</script>"
CWD = "/srv/<img src=x onerror=alert(2)>"


def hostile_report(tmp_path):
    stack = [("<module>", FILE, 1), (FUNC, FILE, 7)]
    times = [1000.0 + 0.25 * i for i in range(41)]
    cap = open_capture(times, [(5 << 20) + (64 << 10) * (i + 1) for i in range(41)],
                       [record(stack, (i, None, 10, 64 << 10)) for i in range(41)])
    cap.command_line = f"python app.py {ARG}"
    rec = Recording.create(tmp_path, "x", "heap", command=["python", "app.py", ARG])
    rec.update(cwd=CWD, status={"outcome": "completed", "detail": ARG}, target={"pid": 4000, "port": 8000},
               timings={"created": 999.0, "load_start": 1000.0, "load_end": 1010.0})
    result = _analyse([cap], (1000.0, 1010.0), None, MAX_GRID,
                      {"command": f"python app.py {ARG}", "root": CWD, "rerun": ""})
    assert result["suspects"][0]["function"] == FUNC
    return write_heap_report(rec, result, diagnosis_document(result, rec))


def test_hostile_strings_are_escaped_in_the_html(tmp_path):
    html = hostile_report(tmp_path).read_text()
    for raw in (FUNC, ARG, "<b>evil</b>", "<img src=x onerror=alert(2)>"):
        assert raw not in html, raw
    assert "<img" not in html and "<script>alert" not in html
    rows = table_rows(html, "pc-suspects")
    assert rows[1][0] == FUNC and rows[1][1].startswith(FILE)  # the data, intact as text
    assert FUNC in flame_functions(html)                       # and in the peak's flame graph
    assert_offline_csp(html)


@pytest.mark.browser
def test_hostile_strings_run_nothing_in_a_browser(tmp_path):
    from tests.browser import open_report

    with open_report(hostile_report(tmp_path)) as r:
        dialogs = []
        r.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        r.goto()
        text = r.page.inner_text("body")
        assert FUNC in text and ARG in text     # shown as text
        assert r.page.locator("img").count() == 0
        assert r.page.locator("b", has_text="evil").count() == 0
        assert r.page.title() != "pwned" and not dialogs
