"""A real browser for the admin: Debian's chromium, headless, driven by Playwright.

No browser is downloaded (never `playwright install`): Playwright drives the chromium found
on PATH. Screenshots go to artifacts/screenshots/ at the repository root (CI keeps them).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from tests.browser import chromium

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def open_page(live_server):
    """`page = open_page()`: a chromium tab on the live server (relative URLs go to it).

    Call it after the test's last database query. Playwright's sync API keeps an asyncio
    event loop running in this thread until it closes, and while a loop runs Django refuses
    ORM calls (SynchronousOnlyOperation) and, worse, keeps this thread's database
    connections in a separate, context-local store: a query would open a second connection
    that the test's teardown never closes (on PostgreSQL the test database then cannot be
    dropped). So the test sets up its data, lets the worker run and reads the rows first,
    then opens the browser; from there on it talks to PCM over HTTP only, as a user would.
    Rather than lifting Django's guard (DJANGO_ALLOW_ASYNC_UNSAFE), a stray query fails
    loudly here.
    """
    reason = chromium.missing()
    if reason:  # only when PCM_REQUIRE_BROWSER is set: otherwise the tests skipped already
        pytest.fail(f"{reason}, and PCM_REQUIRE_BROWSER is set: the browser tests must run")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)
    with contextlib.ExitStack() as stack:

        def open_():
            playwright = stack.enter_context(sync_playwright())
            browser = playwright.chromium.launch(
                executable_path=chromium.executable(), headless=True
            )
            stack.callback(browser.close)
            context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
            stack.callback(context.close)
            context.set_default_timeout(15_000)
            return context.new_page()

        yield open_


@pytest.fixture
def screenshot():
    """Save the page as artifacts/screenshots/<name>.png (full page by default)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=full_page)
        return path

    return take
