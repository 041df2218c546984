"""The flame graph page in Debian's chromium: offline, escaped, and every control works."""

from __future__ import annotations

import pytest

from pinkclinic.profile import from_stacks
from pinkclinic.render.flame import write_flame_report
from tests.browser import open_report
from tests.render.profiles import HOSTILE, shop_profile

pytestmark = pytest.mark.browser

SNAP = "PinkFlame.instances.flame.snapshot()"


@pytest.fixture
def report(tmp_path):
    return write_flame_report(shop_profile(), tmp_path / "shop.pinkclinic-flame.html")


def snap(page):
    return page.evaluate(SNAP)


def click_function(page, name):
    """Click the middle of the largest block drawn for ``name``."""
    r = page.evaluate("""(name) => { const f = PinkFlame.instances.flame;
        return f.rectOf(f.find(name)); }""", name)
    assert r, f"{name} is not drawn"
    box = page.locator("#flame .pf-canvas").bounding_box()
    page.locator("#flame .pf-wrap").evaluate(
        "(el, y) => { el.scrollTop = Math.max(0, y - 100); }", r["y"])
    box = page.locator("#flame .pf-canvas").bounding_box()
    page.mouse.click(box["x"] + r["x"] + r["w"] / 2, box["y"] + r["y"] + r["h"] / 2)


def pixel_hue(page, name):
    return page.evaluate("""(name) => { const f = PinkFlame.instances.flame;
        const r = f.rectOf(f.find(name)); const dpr = window.devicePixelRatio || 1;
        const px = f.ctx.getImageData(Math.round((r.x + 2) * dpr), Math.round((r.y + 2) * dpr), 1, 1).data;
        const [R, G, B] = [px[0] / 255, px[1] / 255, px[2] / 255];
        const mx = Math.max(R, G, B), mn = Math.min(R, G, B), d = mx - mn;
        if (!d) return {h: 0, s: 0};
        let h = mx === R ? ((G - B) / d) % 6 : mx === G ? (B - R) / d + 2 : (R - G) / d + 4;
        return {h: (h * 60 + 360) % 360, s: d / (1 - Math.abs(mx + mn - 1))}; }""", name)


def test_opens_offline_with_hottest_selected_and_nothing_injected(report):
    with open_report(report) as r:
        page = r.page
        s = snap(page)
        assert s["hottest"] == "compute_prices" and s["selected"] == "compute_prices"
        info = page.inner_text("#flame .pf-info")
        assert "compute_prices" in info and "/srv/shop/app.py:40" in info and "app" in info
        first_row = page.locator("#flame .pf-table tbody tr").first.inner_text()
        assert first_row.startswith("compute_prices")
        body = page.inner_text("body")
        assert "compute_prices" in body and HOSTILE in body  # shown as text, not markup
        assert page.title() != "pwned" and page.locator("img").count() == 0
        # next / previous hottest
        page.click("#flame .pf-next")
        assert snap(page)["selected"] == "round_price"
        page.click("#flame .pf-prev")
        assert snap(page)["selected"] == "compute_prices"


def test_click_zooms_breadcrumb_and_keys_zoom_out(report):
    with open_report(report) as r:
        page = r.page
        click_function(page, "checkout")
        s = snap(page)
        assert s["zoom"] == "checkout" and s["selected"] == "checkout"
        crumbs = page.inner_text("#flame .pf-crumbs")
        assert "Router.__call__" in crumbs and crumbs.strip().endswith("checkout")
        visible = page.evaluate("PinkFlame.instances.flame.visibleFunctions()")
        assert "compute_prices" in visible and "EpollSelector.select" not in visible
        page.locator("#flame .pf-crumbs button").first.click()
        assert snap(page)["zoom"] is None
        # keyboard: Escape zooms out one level, Enter zooms to the selection
        click_function(page, "compute_prices")
        page.keyboard.press("Escape")
        assert snap(page)["zoom"] == "checkout"
        assert snap(page)["selected"] == "compute_prices"
        page.keyboard.press("ArrowDown")   # flame view: down is the parent
        page.keyboard.press("ArrowDown")
        assert snap(page)["selected"] == "Router.__call__"
        page.keyboard.press("Enter")
        assert snap(page)["zoom"] == "Router.__call__"
        # ? lists the keys, as real text, and hides them again
        keys = page.locator("#flame .pf-keys dl")
        assert not keys.is_visible()
        page.keyboard.press("?")
        assert keys.is_visible() and "zoom out one level" in keys.inner_text()
        page.keyboard.press("?")
        assert not keys.is_visible()


def test_search_highlights_and_reports_matched_share(report):
    with open_report(report) as r:
        page = r.page
        before = pixel_hue(page, "compute_prices")
        page.fill("#flame .pf-search", "comp.*prices")
        s = snap(page)
        busy = 600 + 150 + 120 + 40 + 30 + 60 + 300
        assert s["matched"] == pytest.approx((600 + 150 + 300) / busy)
        assert "matched" in page.inner_text("#flame .pf-matched")
        after = pixel_hue(page, "compute_prices")
        assert abs(after["h"] - 315) < 12 and abs(before["h"] - after["h"]) > 30
        assert pixel_hue(page, "checkout")["s"] < 0.4  # the rest is muted
        page.fill("#flame .pf-search", "([")
        assert "invalid" in page.inner_text("#flame .pf-matched")


def test_area_toggles_threads_idle_and_view(report):
    with open_report(report) as r:
        page = r.page
        vis = lambda: page.evaluate("PinkFlame.instances.flame.visibleFunctions()")  # noqa: E731
        table = lambda: page.inner_text("#flame .pf-table tbody")  # noqa: E731
        assert "Router.__call__" in vis() and "Router.__call__" in table()
        page.uncheck('#flame .pf-areas input[data-area="deps:starlette"]')
        assert "Router.__call__" not in vis() and "Router.__call__" not in table()
        assert "checkout" in vis()  # merged into its parent, not dropped
        page.uncheck('#flame .pf-areas input[data-area="stdlib"]')
        assert "BaseEventLoop._run_once" not in vis() and "checkout" in vis()
        page.check('#flame .pf-areas input[data-area="stdlib"]')
        # idle off by default; on shows the waiting time
        assert "EpollSelector.select" not in vis()
        page.check('#flame .pf-areas input[data-area="idle"]')
        assert "EpollSelector.select" in vis()
        # one thread
        page.select_option("#flame .pf-threads", label=None, index=3)
        opt = page.eval_on_selector("#flame .pf-threads", "s => s.options[s.selectedIndex].text")
        assert "metrics" in opt
        assert vis() == ["Thread.run", "flush_metrics"]
        # one process (the second worker)
        page.select_option("#flame .pf-threads", value="p:200")
        assert "flush_metrics" not in vis() and "compute_prices" in vis()
        # icicle view puts the root at the top
        y_flame = page.evaluate("PinkFlame.instances.flame.rectOf(0).y")
        page.click("#flame .pf-view")
        assert snap(page)["view"] == "icicle"
        assert page.evaluate("PinkFlame.instances.flame.rectOf(0).y") == 0 < y_flame


def test_hash_restores_the_view(report):
    with open_report(report) as r:
        page = r.page
        page.uncheck('#flame .pf-areas input[data-area="deps:uvicorn"]')
        click_function(page, "checkout")
        page.fill("#flame .pf-search", "price")
        page.click("#flame .pf-view")
        page.locator("#flame .pf-table th", has_text="Total %").click()
        want = snap(page)
        rows = page.inner_text("#flame .pf-table tbody")
        fragment = page.evaluate("location.hash")
        assert "flame.z=" in fragment and "flame.q=price" in fragment
        r.goto("")
        assert snap(page)["zoom"] is None
        r.goto(fragment)
        got = snap(page)
        for key in ("zoom", "selected", "view", "query", "matched", "idle", "threads"):
            assert got[key] == want[key], key
        assert page.inner_text("#flame .pf-table tbody") == rows
        assert not page.is_checked('#flame .pf-areas input[data-area="deps:uvicorn"]')


def test_table_sorts_as_dom_text(report):
    with open_report(report) as r:
        page = r.page
        col = lambda i: page.eval_on_selector_all(  # noqa: E731
            "#flame .pf-table tbody tr", f"rs => rs.map(r => r.children[{i}].textContent)")
        page.locator("#flame .pf-table th", has_text="Total").first.click()
        totals = [float(x.rstrip("%")) for x in col(6)]
        assert totals == sorted(totals, reverse=True) and totals[0] == 95.4
        page.locator("#flame .pf-table th", has_text="Total").first.click()
        totals = [float(x.rstrip("%")) for x in col(6)]
        assert totals == sorted(totals)
        page.locator("#flame .pf-table th", has_text="Function").click()
        names = page.eval_on_selector_all("#flame .pf-table tbody td.pf-name",
                                          "tds => tds.map(t => t.textContent)")
        assert names == sorted(names, key=str.lower)


def test_heap_bytes_and_counts_in_the_info_bar(tmp_path):
    p = from_stacks([([("main", "/a.py", 1), ("remember_visit", "/a.py", 12)], 20_480_000, 1000,
                      1, 1),
                     ([("main", "/a.py", 1), ("cache", "/a.py", 30)], 1_000_000, 10, 1, 1)],
                    unit="bytes")
    out = write_flame_report(p, tmp_path / "h.html", title="heap")
    with open_report(out) as r:
        info = r.page.inner_text("#flame .pf-info")
        assert "remember_visit" in info and "20.5 MB" in info and "allocations: 1,000" in info
        assert "Allocations" in r.page.inner_text("#flame .pf-table thead")


def test_real_py_spy_recording_names_its_hot_function(tmp_path):
    """End to end: py-spy on a real server -> recording folder -> report -> browser."""
    pytest.importorskip("uvicorn")
    from pinkclinic.jsonio import write_json
    from pinkclinic.profile import build_profile
    from tests.profile.pyspy_util import record_app

    rec = tmp_path / "app.pinkclinic-flame"
    rec.mkdir()
    pid = record_app(rec / "pyspy.speedscope.json", seconds=2, pause=0.01)  # some idle time
    write_json(rec / "manifest.json", {
        "schema_version": 1, "kind": "flame", "name": "app", "command": ["python", "hot_app.py"],
        "options": {}, "target": {"pid": pid}, "status": {"outcome": "completed"},
        "streams": {"pyspy": {"file": "pyspy.speedscope.json", "format": "speedscope",
                              "rate_hz": 100}}})
    out = write_flame_report(build_profile(rec), tmp_path / "app.pinkclinic-flame.html")
    with open_report(out) as r:
        s = snap(r.page)
        assert s["hottest"] == "checksum" and s["selected"] == "checksum"
        assert "checksum" in r.page.inner_text("#flame .pf-info")
        areas = r.page.eval_on_selector_all("#flame .pf-areas input",
                                            "xs => xs.map(x => x.dataset.area)")
        assert {"app", "deps:starlette", "deps:uvicorn", "stdlib", "idle"} <= set(areas)


def test_empty_and_idle_only_profiles_say_so(tmp_path):
    empty = write_flame_report(from_stacks([]), tmp_path / "empty.html")
    with open_report(empty) as r:
        assert "no samples" in r.page.inner_text("#flame .pf-empty")
    idle = from_stacks([([("EpollSelector.select", "/usr/lib/python3.11/selectors.py", 468)],
                         5, 5, 1, 1)])
    with open_report(write_flame_report(idle, tmp_path / "idle.html")) as r:
        assert "every sample here is idle" in r.page.inner_text("#flame .pf-empty")
        r.page.check('#flame .pf-areas input[data-area="idle"]')
        assert r.page.locator("#flame .pf-empty").is_hidden()
        assert "EpollSelector.select" in r.page.inner_text("#flame .pf-table tbody")


def test_area_toggles_keep_the_selection_and_the_zoom(report):
    with open_report(report) as r:
        page = r.page
        area = lambda a: f'#flame .pf-areas input[data-area="{a}"]'  # noqa: E731
        assert snap(page)["selected"] == "compute_prices"
        page.uncheck(area("deps:starlette"))      # hide the framework to look at your code
        assert snap(page)["selected"] == "compute_prices"
        page.check(area("deps:starlette"))
        assert snap(page)["selected"] == "compute_prices"
        page.uncheck(area("app"))                 # merged into the nearest visible caller
        assert snap(page)["selected"] == "Router.__call__"
        page.check(area("app"))                   # and back to what the user chose
        assert snap(page)["selected"] == "compute_prices"
        page.check(area("idle"))
        assert snap(page)["selected"] == "compute_prices"
        click_function(page, "checkout")
        page.uncheck(area("deps:uvicorn"))
        s = snap(page)
        assert s["zoom"] == "checkout" and s["selected"] == "checkout"
        page.uncheck(area("deps:starlette"))
        page.check(area("deps:starlette"))
        assert snap(page)["zoom"] == "checkout"


def test_idle_share_location_sort_reset_title_and_focus_ring(report):
    with open_report(report) as r:
        page = r.page
        idle = page.locator("#flame .pf-areas label", has=page.locator('input[data-area="idle"]'))
        busy = 600 + 150 + 120 + 40 + 30 + 60 + 300
        want = f"{100 * 900 / (busy + 900):.1f}%"
        assert want in idle.inner_text()          # shown while idle is off...
        page.check('#flame .pf-areas input[data-area="idle"]')
        assert want in idle.inner_text()          # ...and on
        th = page.locator('#flame .pf-table th[data-col="loc"]')
        th.click()
        assert th.get_attribute("aria-sort") == "ascending"
        locs = page.eval_on_selector_all("#flame .pf-table tbody td.pf-loc",
                                         "tds => tds.map(t => t.textContent)")
        files = [loc.rsplit(":", 1)[0] for loc in locs]
        assert files == sorted(files) and len(set(files)) > 2
        th.click()
        assert th.get_attribute("aria-sort") == "descending"
        assert page.locator('#flame .pf-table th[aria-sort]').count() == 1
        page.locator('#flame .pf-table th[data-col="totalp"]').click()
        assert page.eval_on_selector_all("#flame .pf-table th[aria-sort]",
                                         "ths => ths.map(t => t.dataset.col)") == ["totalp"]
        assert "one level" in page.get_attribute("#flame .pf-reset", "title")
        # a keyboard user tabs from the breadcrumb to the canvas and sees where focus is
        page.locator("#flame .pf-crumbs button").last.focus()
        page.keyboard.press("Tab")
        ring = page.evaluate("""() => { const c = document.querySelector('#flame .pf-canvas');
            const st = getComputedStyle(c);
            return {focused: document.activeElement === c, width: st.outlineWidth,
                    style: st.outlineStyle}; }""")
        assert ring == {"focused": True, "width": "2px", "style": "solid"}


def test_process_labels_tell_parent_and_children_apart(tmp_path):
    cmd = "/root/.pyenv/versions/3.11.7/bin/python /root/.pyenv/versions/3.11.7/bin/gunicorn -w 2 app:app"
    work = ("work", "/srv/app.py", 3)
    p = from_stacks([([work], 5, 5, 10, 10), ([work], 7, 7, 11, 11), ([work], 9, 9, 12, 12)],
                    process_names={10: cmd, 11: cmd, 12: cmd},
                    meta={"process_parents": {"11": 10, "12": 10}})
    with open_report(write_flame_report(p, tmp_path / "g.html")) as r:
        opts = r.page.eval_on_selector_all("#flame .pf-threads option[value^='p:']",
                                           "os => os.map(o => o.textContent)")
        assert len(opts) == 3 and len(set(opts)) == 3
        assert "parent of 2" in opts[0] and "child of 10" in opts[1]
        assert all("python gunicorn -w 2 app:app" in o for o in opts)  # paths shortened


def test_without_idle_recorded_the_toggle_says_so(tmp_path):
    p = from_stacks([([("work", "/srv/app.py", 3)], 5, 5, 1, 1)],
                    meta={"idle_recorded": False, "rate_hz": 100})
    with open_report(write_flame_report(p, tmp_path / "cpu.html")) as r:
        cb = r.page.locator('#flame .pf-areas input[data-area="idle"]')
        assert cb.is_disabled() and not cb.is_checked()
        label = r.page.locator("#flame .pf-areas label.pf-disabled")
        assert "recorded without --idle" in label.get_attribute("title")
        assert "not recorded" in label.inner_text()
        opts = r.page.eval_on_selector_all("#flame .pf-threads option", "os => os.map(o => o.textContent)")
        assert len(opts) == 2 and not any("busy" in o for o in opts)  # no idle: no busy share


def test_lines_put_the_line_in_block_labels(tmp_path):
    out = write_flame_report(shop_profile(lines=True), tmp_path / "lines.html")
    with open_report(out) as r:
        visible = r.page.evaluate("PinkFlame.instances.flame.visibleFunctions()")
        assert "compute_prices:40" in visible and "checkout:20" in visible
        assert snap(r.page)["selected"] == "compute_prices:40"


def test_a_thread_per_request_server_gets_one_option_for_its_request_threads(tmp_path):
    serve = ("serve_forever", "/srv/app.py", 5)
    handle = ("handle", "/srv/app.py", 9)
    stacks = [([serve], 10, 10, 7, 1)]
    names = {(7, 1): "MainThread"}
    for i in range(2, 6):  # ThreadingHTTPServer names its threads Thread-N (process_request_thread)
        stacks.append(([handle], 10 * i, 10 * i, 7, i))
        names[(7, i)] = f"Thread-{i} (process_request_thread)"
    p = from_stacks(stacks, thread_names=names)
    with open_report(write_flame_report(p, tmp_path / "tpr.html")) as r:
        page = r.page
        groups = page.eval_on_selector_all("#flame .pf-threads option[value^='g:']",
                                           "os => os.map(o => [o.value, o.textContent])")
        assert len(groups) == 1 and groups[0][1].startswith("4 threads Thread-N (process_request_thread)")
        page.select_option("#flame .pf-threads", groups[0][0])
        visible = page.evaluate("PinkFlame.instances.flame.visibleFunctions()")
        assert "handle" in visible and "serve_forever" not in visible
        assert page.evaluate("PinkFlame.instances.flame.dTot[0]") == 10 * (2 + 3 + 4 + 5)
        assert "4 threads Thread-N" in page.evaluate("PinkFlame.instances.flame.rootLabel()")
        page.reload()  # the group is in the URL hash like any other selection
        assert page.locator("#flame .pf-threads").input_value() == groups[0][0]
