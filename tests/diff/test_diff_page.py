"""The diff page in a real chromium: the differential flame graph paints red where NEW costs
more and blue where it costs less, the tooltip and the removed-stacks view work, target
strings are escaped and the page asks for nothing."""

from __future__ import annotations

import pytest

from pinkclinic.diff import diff_recordings
from pinkclinic.render.diff import write_diff_report
from tests.browser import open_report
from tests.diff.synth import make_recording

pytestmark = pytest.mark.browser

EVIL = "<img src=x onerror=window.__pwned=1>"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    d = tmp_path_factory.mktemp("page")
    base = make_recording(d, "before", {"render_report": 600, "price_cart": 150,
                                        "legacy_cache": 120}, requests=1000)
    new = make_recording(d, "after", {"render_report": 200, "price_cart": 150, EVIL: 300},
                         requests=1000, seed=2)
    return write_diff_report(diff_recordings(base, new))


COLOURS = """(view) => {
  const c = document.querySelector('#pd-' + view + ' canvas');
  const g = c.getContext('2d'), px = g.getImageData(0, 0, c.width, c.height).data;
  let red = 0, blue = 0, grey = 0;
  for (let i = 0; i < px.length; i += 4) {
    const [r, gg, b] = [px[i], px[i + 1], px[i + 2]];
    if (r > 180 && gg < 120 && b < 120) red++;
    else if (b > 180 && r < 120) blue++;
    else if (Math.abs(r - gg) < 8 && Math.abs(gg - b) < 12 && r > 180 && r < 220) grey++;
  }
  return {red, blue, grey};
}"""

BOX = """([view, name]) => {
  const g = window.PinkDiff.graphs[view], t = g.t;
  const b = g.boxes.find(b => b[3] > 0 && t.frames[t.frame[b[3]]][0] === name);
  if (!b) return null;
  const r = document.querySelector('#pd-' + view + ' canvas').getBoundingClientRect();
  return {x: r.left + b[0] + b[2] / 2, y: r.top + b[1] + 9};
}"""


def test_the_page_paints_the_changes_and_escapes_the_target(page):
    with open_report(page) as r:
        p = r.page
        p.wait_for_function("window.PinkDiff && window.PinkDiff.ready")
        seen = p.evaluate(COLOURS, "new")
        # render_report fell (blue), the new function appeared (red), price_cart held (grey)
        assert seen["red"] > 500 and seen["blue"] > 500 and seen["grey"] > 500, seen
        at = p.evaluate(BOX, ["new", "render_report"])
        assert at is not None
        p.mouse.move(at["x"], at["y"])
        tip = p.locator("#pd-new .pd-tip")
        tip.wait_for(state="visible")
        text = tip.inner_text()
        assert "render_report" in text and "BASE" in text and "NEW" in text
        assert "−" in text or "-" in text
        # the function only NEW runs: its name is text, never markup
        at = p.evaluate(BOX, ["new", EVIL])
        p.mouse.move(at["x"], at["y"])
        assert EVIL in tip.inner_text()
        assert EVIL in p.locator("#pd-functions").inner_text()
        assert p.locator("img").count() == 0
        assert p.evaluate("window.__pwned") is None
        # the stacks NEW no longer runs have their own view, width = BASE
        p.click("button[data-view=removed]")
        assert p.locator("#pd-removed").is_visible() and not p.locator("#pd-new").is_visible()
        assert p.evaluate(BOX, ["removed", "legacy_cache"]) is not None
        assert p.evaluate(BOX, ["removed", "price_cart"]) is None
        # zoom: a click on a frame makes it the full width
        p.click("button[data-view=new]")
        at = p.evaluate(BOX, ["new", "price_cart"])
        p.mouse.click(at["x"], at["y"])
        width = p.evaluate("""() => { const g = window.PinkDiff.graphs.new, t = g.t;
            const b = g.boxes.find(b => b[3] > 0 && t.frames[t.frame[b[3]]][0] === 'price_cart');
            return b[2]; }""")
        assert width == pytest.approx(p.evaluate(
            "document.querySelector('#pd-new canvas').clientWidth"), rel=0.01)
