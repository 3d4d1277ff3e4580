"""Options shared by several commands, spelled the same way everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

PROVIDER_NAMES = ("jogg", "keevault", "royalti")


def provider_option(f: F) -> F:
    return click.option(
        "-p",
        "--provider",
        required=True,
        type=click.Choice(PROVIDER_NAMES),
        help="Provider whose API and schema to use.",
    )(f)


def sheet_options(f: F) -> F:
    """--sheet, --mapping, --schema, --encoding, --delimiter: how to read a catalog."""
    f = click.option("--delimiter", default=None, help="CSV delimiter (default: detected).")(f)
    f = click.option(
        "--encoding", default=None, help="CSV encoding (default: detected; UTF-8, cp1252, UTF-16)."
    )(f)
    f = click.option(
        "--schema",
        "house_rules",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Extra house rules (YAML, see schemas/README.md); may be repeated.",
    )(f)
    f = click.option(
        "--mapping",
        type=click.Path(exists=True, dir_okay=False),
        help="YAML/JSON/CSV file mapping your column headers to the provider's field names.",
    )(f)
    f = click.option("--sheet", default=None, help="Worksheet to read (required when several hold data).")(f)
    return f


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")(f)
