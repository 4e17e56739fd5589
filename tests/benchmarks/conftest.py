"""The browser fixtures, for bench_frontend.py."""

from tests.browser.conftest import browser, chromium, demo

__all__ = ["browser", "chromium", "demo"]
