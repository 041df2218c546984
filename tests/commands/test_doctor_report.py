"""The doctor report in a real browser: offline, no errors, every target string escaped."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from tests.browser import open_report
from tests.commands.doctor_run import check_diagnosis
from tests.helpers import SAMPLES, run_cli
from tests.reports import assert_offline_csp

HOSTILE_DIR = "<img src=x onerror=alert(document.domain)> & 'q'"
HOSTILE_ARG = "--x=</script><script>alert(1)</script>"


@pytest.mark.browser
def test_report_is_offline_and_escapes_the_targets_strings(tmp_path):
    app_dir = tmp_path / HOSTILE_DIR
    app_dir.mkdir()
    shutil.copy(SAMPLES / "loop_cpu_starlette.py", app_dir / "app.py")
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "esc", "--load", "-c 5 -d 3", "--",
                   sys.executable, str(app_dir / "app.py"), HOSTILE_ARG, timeout=120,
                   env={**os.environ, "PORT": "0"})
    # also the loop-cpu case of tests/commands/test_doctor_samples.py: verdict and culprit
    diagnosis = check_diagnosis(proc, tmp_path / "esc.pinkclinic-doctor", "loop-cpu", "render_report")
    assert diagnosis["issues"][0]["culprits"][0]["file"] == str(app_dir / "app.py")
    html_path = tmp_path / "esc.pinkclinic-doctor.html"
    html = html_path.read_text()
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "pinkclinic_probe" not in html
    assert_offline_csp(html)
    with open_report(html_path) as r:
        dialogs = []
        r.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        text = r.page.inner_text("body")
        assert "Event loop blocked by CPU work" in text
        assert "render_report" in text
        assert HOSTILE_DIR in text          # the culprit's path, shown as text
        assert HOSTILE_ARG in text          # the command line, shown as text
        assert r.page.locator("img").count() == 0
        assert r.page.locator("section.pc-chart").count() == 7
        assert r.page.locator("section.pc-chart.pc-flagged").count() >= 1
        # one crosshair for all charts: hovering the first chart fills every readout
        first = r.page.locator("section.pc-chart canvas.pc-over").first
        first.scroll_into_view_if_needed()
        box = first.bounding_box()
        first.hover(position={"x": box["width"] * 0.6, "y": box["height"] / 2})
        readouts = r.page.locator(".pc-readout").all_inner_texts()
        assert len(readouts) == 7 and all(" s" in t for t in readouts), readouts
        assert not dialogs
