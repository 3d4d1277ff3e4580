"""Options shared by ``plan`` and ``apply`` (mode, blanks, base URL, state, pacing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from catalog_sync.plan.diff import BLANKS, MODES
from catalog_sync.providers.base import DEFAULT_TIMEOUT
from catalog_sync.state import DEFAULT_STATE

F = TypeVar("F", bound=Callable[..., Any])


def sync_options(f: F) -> F:
    """--mode, --blanks, --base-url, --state, --rate, --concurrency, --timeout."""
    options = [
        click.option(
            "--timeout",
            type=click.FloatRange(min=1),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            help="Seconds one answer may take in all (connect, send, headers and body); a slower or "
            "trickled answer is cut off.",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1, max=64),
            default=None,
            help="Requests in parallel (default: the provider's safe default).",
        ),
        click.option(
            "--rate",
            type=click.FloatRange(min=0.01),
            default=None,
            help="Requests per second (default: the provider's safe default).",
        ),
        click.option(
            "--state",
            "state_path",
            type=click.Path(dir_okay=False),
            default=str(DEFAULT_STATE),
            show_default=True,
            help="State database (SQLite): run history, remote ids, in-flight writes.",
        ),
        click.option(
            "--base-url",
            default=None,
            help="Provider API base URL (default: JOGG_/KEEVAULT_/ROYALTI_BASE_URL or the public API).",
        ),
        click.option(
            "--blanks",
            type=click.Choice(BLANKS),
            default="keep",
            show_default=True,
            help="keep: an empty cell changes nothing; clear: an empty cell clears the remote field "
            "(except key columns, which a blank never clears).",
        ),
        click.option(
            "--mode",
            type=click.Choice(MODES),
            default="upsert",
            show_default=True,
            help="upsert, create (only new rows), update (only matched rows) or mirror "
            "(also delete remote records missing from the sheet, within --max-deletes).",
        ),
    ]
    for option in options:
        f = option(f)
    return f
