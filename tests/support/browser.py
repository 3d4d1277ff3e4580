"""A real headless browser for pages the tool writes: Debian's ``chromium`` (``make test`` installs
it) driven by playwright through that executable (no browser download, never ``playwright install``).

:func:`open_page` opens a file and records every request the page makes, every dialog it opens
(``alert``) and every script error, so a test can assert that nothing left the page and nothing ran.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Opened:
    page: Any  # playwright.sync_api.Page
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: requests that never got an answer: url → why (``csp``: blocked by the page's policy)
    failed: dict[str, str] = field(default_factory=dict)


def chromium() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    assert found, "Debian's chromium is required for the review page tests: `make chromium` installs it"
    return found


def _note(seen: list[str], what: str) -> None:
    seen.append(what)


def _note_failure(opened: Opened, request: Any) -> None:
    opened.failed[request.url] = request.failure or ""


def _note_dialog(opened: Opened, dialog: Any) -> None:
    opened.dialogs.append(dialog.message)
    dialog.dismiss()


@contextmanager
def open_page(path: Path, *, width: int = 1280, height: int = 900) -> Iterator[Opened]:
    """``path`` opened in a fresh headless Chromium (a new user data dir), loaded and its script run."""
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    try:
        with sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                str(profile),
                executable_path=chromium(),
                headless=True,
                args=ARGS,
                viewport={"width": width, "height": height},
            )
            try:
                opened = Opened(context.new_page())
                context.on("request", lambda request: _note(opened.requests, request.url))
                context.on("requestfailed", lambda request: _note_failure(opened, request))
                opened.page.on("dialog", lambda dialog: _note_dialog(opened, dialog))
                opened.page.on("pageerror", lambda error: _note(opened.errors, str(error)))
                opened.page.goto(path.resolve().as_uri())
                opened.page.wait_for_selector("body[data-ready=true]", state="attached")
                yield opened
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
