"""Whether the browser tests can run: Playwright's package and Debian's chromium.

Where either is missing they skip, unless PCM_REQUIRE_BROWSER is set (CI sets it): there
they must run, and fail.
"""

from __future__ import annotations

import os
import shutil


def executable() -> str | None:
    return shutil.which("chromium")


def missing() -> str:
    """Why the browser tests cannot run here ("" when they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (make install)"
    if executable() is None:
        return "chromium is not installed (Debian: apt-get install chromium)"
    return ""


def required() -> bool:
    return bool(os.environ.get("PCM_REQUIRE_BROWSER"))
