"""Browser tests: Debian's headless Chromium driven by Playwright against pytest-django's live
server on the test database (Postgres). Screenshots go to artifacts/browser/ (ignored by git)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
PASSWORD = "browser-test-password-1"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # plain synchronous code all the same.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def demo(transactional_db: None, live_server: Any, tmp_path: Path) -> str:
    """The demo data with one known password; returns the live server's URL."""
    call_command("seed_demo", password=PASSWORD, logins_file=str(tmp_path / "logins.json"))
    return str(live_server.url)


@dataclass
class Browser:
    """Opens pages and collects what must not happen: script errors and dialogs."""

    chromium: Any
    base_url: str
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def page(self, **options: Any) -> Any:
        context = self.chromium.new_context(base_url=self.base_url, **{**DESKTOP, **options})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

        def dismiss(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        return page


@pytest.fixture
def browser(chromium: Any, demo: str) -> Iterator[Browser]:
    opened = Browser(chromium=chromium, base_url=demo)
    yield opened
    for context in opened.contexts:
        context.close()
    assert opened.page_errors == [], "the app threw in the browser"
    assert opened.dialogs == [], "a dialog opened (alert/confirm/prompt)"


def screenshot(page: Any, name: str) -> list[Path]:
    """The whole page. On a phone, one shot per screenful: a full-page capture would briefly
    emulate a mouse there, and the app (rightly) redraws for a mouse."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    if not page.evaluate("matchMedia('(pointer: coarse)').matches"):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return [path]
    height = page.viewport_size["height"]
    total = page.evaluate("document.documentElement.scrollHeight")
    paths = []
    for index in range(min(-(-total // height), 8)):
        page.evaluate(f"window.scrollTo(0, {index * height})")
        path = ARTIFACTS / f"{name}-{index + 1}.png"
        page.screenshot(path=str(path))
        paths.append(path)
    page.evaluate("window.scrollTo(0, 0)")
    return paths
