"""The flame page's source heatmap: samples per line, the saved sources, and the panel.

The end-to-end test profiles a real server with `pinkclinic flame` (py-spy) whose
handler has one expensive line and one cheap line holding a ``<script>`` string, then
clicks the handler in Debian's chromium."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from pinkclinic.profile import ProfileBuilder
from pinkclinic.render.flame import render_flame_html
from tests.browser import open_report
from tests.helpers import run_cli
from tests.render.test_flame_browser import click_function

APP = textwrap.dedent('''\
    import asyncio
    import os


    def handle():
        tag = "<script>document.title='pwned'</script>"
        total = sum(map(abs, range(-60000, 60000)))
        return len(tag) + total % 7


    class Server(asyncio.Protocol):
        def connection_made(self, transport):
            self.t = transport

        def data_received(self, data):
            body = b"%d" % handle()
            self.t.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%s" % (len(body), body))


    async def main():
        server = await asyncio.get_running_loop().create_server(
            Server, "127.0.0.1", int(os.environ.get("PORT", "0")))
        async with server:
            await server.serve_forever()


    asyncio.run(main())
    ''')
HOT_LINE = APP.splitlines().index("    total = sum(map(abs, range(-60000, 60000)))") + 1
SCRIPT_LINE = HOT_LINE - 1


def _builder():
    b = ProfileBuilder(heat=True, meta={})
    t = b.thread(1, 1)
    main = b.frame("main", "/srv/app.py", 3)
    a7, a8 = b.frame("handle", "/srv/app.py", 7), b.frame("handle", "/srv/app.py", 8)
    rec = b.frame("walk", "/srv/app.py", 20)
    lib = b.frame("dumps", "/usr/lib/python3.11/json/__init__.py", 231)
    b.add(t, (main, a7), 5)            # line 7 running
    b.add(t, (main, a8, lib), 3)       # line 8 calling into the stdlib
    b.add(t, (main, a8, rec, rec), 2)  # recursion: counted once per sample
    return b


def test_line_heat_sums_self_and_total_per_app_line():
    p = _builder().build()
    by_name = {p.frames[f].function: lines for f, lines in p.heat.items()}
    assert by_name["handle"] == {7: [5, 5], 8: [0, 5]}
    assert by_name["main"] == {3: [0, 10]}
    assert by_name["walk"] == {20: [2, 2]}
    assert "dumps" not in by_name  # stdlib: no heat kept
    assert ProfileBuilder(meta={}).build().heat is None  # only when asked


def test_page_data_keeps_only_frames_whose_source_is_known():
    p = _builder().build()
    html = render_flame_html(p, sources={"/srv/app.py": {"7": "x = 1", "8": "<script>"}})
    data = json.loads(html.split('id="flame-data">', 1)[1].split("</script>", 1)[0])
    src = data["source"]
    assert list(src["files"]) == ["/srv/app.py"]
    names = {data["strings"][data["frames"][4 * int(f)]]: rows for f, rows in src["heat"].items()}
    assert names["handle"] == [[7, 5, 5], [8, 0, 5]]
    assert "<script>" not in html.split('id="flame-data">', 1)[1].split("</script>", 1)[0]
    assert "source" not in json.loads(render_flame_html(p).split('id="flame-data">', 1)[1]
                                      .split("</script>", 1)[0])


@pytest.fixture(scope="module")
def flame_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("heat")
    app = d / "hot_line_app.py"
    app.write_text(APP)
    proc = run_cli("flame", "--dest", str(d), "--name", "heat", "--load", "-c 2 -d 2", "--",
                   sys.executable, str(app), timeout=120, env={**os.environ, "PORT": "0"})
    assert proc.returncode == 0, proc.stderr
    return d / "heat.pinkclinic-flame", app


def test_flame_saves_the_hot_files_source(flame_run):
    rec, app = flame_run
    files = json.loads((rec / "sources.json").read_text())["files"]
    assert files[str(app)][str(HOT_LINE)] == APP.splitlines()[HOT_LINE - 1]
    assert len(files[str(app)]) == len(APP.splitlines())  # a small file is saved whole


@pytest.mark.browser
def test_clicking_the_handler_shows_its_lines_hottest_first(flame_run):
    rec, _ = flame_run
    with open_report(rec.with_name(rec.name + ".html")) as r:
        page = r.page
        click_function(page, "handle")
        panel = page.locator("#flame .pf-source")
        assert panel.is_visible() and "handle" in panel.locator(".pf-src-head").inner_text()
        rows = page.evaluate("""() => Array.from(document.querySelectorAll(
            '#flame .pf-source tbody tr')).map(tr => [+tr.dataset.line, +tr.dataset.total,
            +tr.dataset.self, tr.querySelector('.pf-code').textContent])""")
        assert rows[0][0] == HOT_LINE - 2  # from the def line
        hottest = max(rows, key=lambda row: row[1])
        assert hottest[0] == HOT_LINE and hottest[2] > 0
        script = next(row for row in rows if row[0] == SCRIPT_LINE)
        assert script[3] == APP.splitlines()[SCRIPT_LINE - 1]  # shown as text
        assert script[1] < hottest[1] / 3
        assert page.title() != "pwned"
        assert page.locator("#flame .pf-source script").count() == 0
