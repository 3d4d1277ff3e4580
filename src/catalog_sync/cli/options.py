"""Options shared by several commands, spelled the same way everywhere."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from catalog_sync.config.defaults import DATE_FORMATS
from catalog_sync.engine.choose import ENGINES
from catalog_sync.providers.registry import NAMES
from catalog_sync.sheets.options import ReadOptions

F = TypeVar("F", bound=Callable[..., Any])

PROVIDER_NAMES = NAMES  # from the one description of each provider


def provider_option(f: F) -> F:
    return click.option(
        "-p",
        "--provider",
        required=True,
        type=click.Choice(PROVIDER_NAMES, case_sensitive=False),  # -p Royalti reaches the command as royalti
        help="Provider whose API and schema to use (case does not matter).",
    )(f)


_READ_PARAMS = ("sheet", "mapping", "house_rules", "encoding", "delimiter", "date_format")


def sheet_options(f: F) -> F:
    """--sheet, --mapping, --schema, --encoding, --delimiter, --date-format: how to read a catalog.

    The command receives them as one ``read: ReadOptions`` argument.
    """

    @functools.wraps(f)
    def with_read(*args: Any, **kwargs: Any) -> Any:
        read = ReadOptions(**{name: kwargs.pop(name) for name in _READ_PARAMS if name in kwargs})
        return f(*args, read=read, **kwargs)

    g: Any = with_read
    g = click.option(
        "--date-format",
        type=click.Choice(DATE_FORMATS, case_sensitive=False),
        default=None,
        metavar="FORM",
        help=f"Read dates written this local way ({', '.join(DATE_FORMATS)}; 7/4/2024 too) as YYYY-MM-DD "
        "dates (default: YYYY-MM-DD only).",
    )(g)
    g = click.option("--delimiter", default=None, help="CSV delimiter (default: detected).")(g)
    g = click.option(
        "--encoding", default=None, help="CSV encoding (default: detected; UTF-8, cp1252, UTF-16)."
    )(g)
    g = click.option(
        "--schema",
        "house_rules",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Extra house rules (YAML, see docs/reference/schemas.md); may be repeated.",
    )(g)
    g = click.option(
        "--mapping",
        type=click.Path(exists=True, dir_okay=False),
        help="YAML/JSON/CSV file mapping your column headers to the provider's field names.",
    )(g)
    g = click.option("--sheet", default=None, help="Worksheet to read (required when several hold data).")(g)
    return cast(F, g)


def engine_option(f: F) -> F:
    """``--engine auto|memory|disk``: which engine reads and checks the catalog (``catalog_sync.engine``).
    Declared here so every command that reads a catalog spells it alike (``validate``, ``plan``, ``apply``)."""
    return click.option(
        "--engine",
        type=click.Choice(ENGINES, case_sensitive=False),
        default="auto",
        show_default=True,
        help="memory: read the whole catalog into memory; disk: the out-of-core engine, a CSV checked chunk "
        "by chunk with its key columns spilled to disk (for catalogs past memory, ten million rows and "
        "more; same problems, and plan and apply: the same plan, the listing spilled to disk too); auto: "
        "disk for a CSV too big for memory, else memory.",
    )(f)


def plan_file_options(name: str, saved_for: str) -> Callable[[F], F]:
    """``-o NAME.json|NAME.xlsx`` (a saved plan, or a review workbook), ``--force`` (over an existing
    workbook) and ``--full``: what ``plan`` and ``undo`` both offer.  ``saved_for``: what the saved
    plan is, in the help."""
    options = [
        click.option(
            "-o",
            "--out",
            "out",
            type=click.Path(dir_okay=False),
            default=None,
            metavar=f"{name}.json|{name}.xlsx",
            help=f"Save {saved_for} (with a fingerprint of each targeted remote record) for `apply {name}`: "
            ".json, or .xlsx for a review workbook (approve each change, take a side of each conflict; any "
            "other suffix: exit 2).",
        ),
        click.option(
            "--force",
            is_flag=True,
            help=f"Overwrite an existing {name}.xlsx (it may hold a reviewer's approvals).",
        ),
        click.option(
            "--full",
            is_flag=True,
            help="List every row of each action (by default the first 20 and a count of the rest).",
        ),
    ]

    def decorate(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")(f)


def path_ending_in(
    suffixes: tuple[str, ...], what: str
) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback: the value as a Path when it ends in one of ``suffixes`` (usage error otherwise)."""
    listed = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
        if value is None:
            return None
        if Path(value).suffix.lower() not in suffixes:
            raise click.BadParameter(f"{what} must end in {listed}", ctx=ctx, param=param)
        return Path(value)

    return check
