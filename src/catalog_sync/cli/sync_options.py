"""Options shared by ``plan`` and ``apply`` (mode, blanks, base URL, state, pacing)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from catalog_sync.config.defaults import (
    BLANKS,
    DEFAULT_MAX_ANSWER_MB,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RECORDS,
    DEFAULT_MAX_SKEW,
    DEFAULT_STATE,
    DEFAULT_TIMEOUT,
    MODES,
    PREFER,
)

F = TypeVar("F", bound=Callable[..., Any])


def connection_options(f: F) -> F:
    """--base-url, --state, --rate, --concurrency, --timeout: where the provider is and how to talk to it."""
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
            help="Requests per second at most: the pace starts there and never passes it (default: start at "
            "the provider's safe rate and adapt to what the server accepts; JoggAI: 20 POST/min).",
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
    ]
    for option in options:
        f = option(f)
    return f


def sync_options(f: F) -> F:
    """--mode, --blanks, --prefer and the :func:`connection_options`."""
    options = [
        click.option(
            "--prefer",
            type=click.Choice(PREFER),
            default=None,
            help="Settle every conflict between your edit of a pulled sheet and a remote edit of the same "
            "cell: sheet (your value is sent) or remote (theirs is kept; your other edits of the row are "
            "still sent). A field's `prefer` in house rules (--schema) settles it first. Without it, such a "
            "row is a conflict and nothing of it is sent.",
        ),
        click.option(
            "--blanks",
            type=click.Choice(BLANKS),
            default="keep",
            show_default=True,
            help="keep: an empty cell changes nothing; clear: an empty cell clears the remote field "
            "(except key columns, which a blank never clears; a field the provider's API cannot clear "
            "is refused before anything is sent, exit 3).",
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
    return connection_options(f)


_LIMIT_PARAMS = ("max_pages", "max_records", "max_answer_mb", "max_clock_skew")


def limit_options(f: F) -> F:
    """--max-pages, --max-records, --max-answer-mb, --max-clock-skew: bounds on what a provider
    may answer.  The command receives them as one ``limits: ClientLimits`` argument."""

    @functools.wraps(f)
    def with_limits(*args: Any, **kwargs: Any) -> Any:
        from catalog_sync.providers.base import ClientLimits  # imported when the command runs

        limits = ClientLimits(**{name: kwargs.pop(name) for name in _LIMIT_PARAMS})
        return f(*args, limits=limits, **kwargs)

    g: Any = with_limits
    g = click.option(
        "--max-clock-skew",
        type=click.FloatRange(min=1),
        default=None,
        metavar="SECONDS",
        help=f"Keevault: how far a signed answer's time may be from this machine's clock "
        f"[default: {DEFAULT_MAX_SKEW:g}]; older answers are refused as replays.",
    )(g)
    g = click.option(
        "--max-answer-mb",
        type=click.FloatRange(min=0.01),
        default=None,
        metavar="MB",
        help=f"Refuse a provider answer larger than this once decompressed [default: {DEFAULT_MAX_ANSWER_MB}].",
    )(g)
    g = click.option(
        "--max-records",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help=f"Refuse a remote listing of more records [default: {DEFAULT_MAX_RECORDS:,}].",
    )(g)
    g = click.option(
        "--max-pages",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help=f"Refuse a remote listing of more pages [default: {DEFAULT_MAX_PAGES:,}].",
    )(g)
    return cast(F, g)
