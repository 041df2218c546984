"""A shared Playwright helper: open a report in Debian's chromium, offline, and clean up.

Usage in any test (mark it ``@pytest.mark.browser``)::

    from tests.browser import open_report

    with open_report(html_path) as r:         # r.page is a Playwright Page
        assert "hot_function" in r.page.inner_text("body")
    # on exit: the page's context is closed, and the test fails if the page logged a
    # console error, threw, or asked for anything but the file itself.

``r.check()`` runs those assertions early; ``open_report(..., check=False)`` lets
a test inspect ``r.console_errors`` / ``r.page_errors`` / ``r.requests`` itself.
Each call gets a fresh browser context (its own storage, cache and cookies, nothing
shared with another call); every request other than the report is aborted (so a broken
report cannot reach the network even by accident).

One chromium serves the whole session: launching it cost ~2 s per report (~3.5 s in CI),
a fresh context ~0.5 s. It is started without the test's ``PINKCLINIC_TEST_TAG``, so the
``no_orphans`` guard does not count it as the first test's leftover, and
``close_browser()`` (tests/conftest.py, at the session's end) stops it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@dataclass
class Report:
    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if u.split("#", 1)[0] != self.url]

    def check(self) -> None:
        assert not self.page_errors, f"page threw: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.foreign_requests(), f"the page made requests: {self.foreign_requests()}"

    def goto(self, fragment: str = "") -> None:
        """(Re)load the report, optionally with ``#fragment``."""
        self.page.goto(self.url + (("#" + fragment.lstrip("#")) if fragment else ""),
                       wait_until="load")


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")


_shared: dict[str, Any] = {}


def _browser() -> Any:
    """The session's chromium, launched on first use (again if it went away)."""
    browser = _shared.get("browser")
    if browser is not None and browser.is_connected():
        return browser
    close_browser()
    from playwright.sync_api import sync_playwright

    from tests.helpers import TAG_VAR

    tag = os.environ.pop(TAG_VAR, None)  # the driver and chromium copy os.environ
    try:
        _shared["pw"] = sync_playwright().start()
        _shared["browser"] = _shared["pw"].chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    finally:
        if tag is not None:
            os.environ[TAG_VAR] = tag
    return _shared["browser"]


def close_browser() -> None:
    """Stop the shared chromium and Playwright's driver, if they run."""
    browser, pw = _shared.pop("browser", None), _shared.pop("pw", None)
    try:
        if browser is not None:
            with contextlib.suppress(Exception):
                browser.close()
    finally:
        if pw is not None:
            with contextlib.suppress(Exception):
                pw.stop()


@contextlib.contextmanager
def browser_context(*, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh Chromium context (no storage shared with any other), closed on exit."""
    _require_chromium()
    ctx = _browser().new_context(viewport={"width": width, "height": height},
                                 service_workers="block")
    try:
        yield ctx
    finally:
        ctx.close()


@contextlib.contextmanager
def open_report(path: str | Path, *, fragment: str = "", check: bool = True,
                width: int = 1280, height: int = 900) -> Iterator[Report]:
    url = Path(path).resolve().as_uri()
    with browser_context(width=width, height=height) as ctx:
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        rep = Report(page, url)

        def route(r):
            if r.request.url.split("#", 1)[0] == url:
                r.continue_()
            else:
                r.abort()

        ctx.route("**/*", route)
        ctx.on("request", lambda req: rep.requests.append(req.url))
        page.on("console", lambda m: rep.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: rep.page_errors.append(str(e)))
        rep.goto(fragment)
        yield rep
        if check:
            rep.check()
