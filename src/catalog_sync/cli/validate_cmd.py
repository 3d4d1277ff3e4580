"""``catalog-sync validate``: check a catalog against a provider's schema; nothing is sent."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from catalog_sync.errors import InvalidCatalogError
from catalog_sync.problems import Problem
from catalog_sync.report import SUFFIXES, write_table
from catalog_sync.validation import ValidationReport, validate_catalog

from .options import json_option, provider_option, sheet_options

PROBLEM_COLUMNS = ["sheet", "cell", "row", "column", "value", "code", "severity", "message"]
_MAX_VALUE = 32
WIDE = 120  # narrower terminals get a list instead of the table


def _report_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() not in SUFFIXES:
        raise click.BadParameter("the report must end in .csv, .xlsx or .json", ctx=ctx, param=param)
    return path


@click.command("validate")
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False))
@provider_option
@sheet_options
@click.option(
    "--strict", is_flag=True, help="Treat warnings (UPC check digits, numbers in id columns, …) as errors."
)
@json_option
@click.option(
    "--report",
    "report_file",
    callback=_report_path,
    metavar="FILE",
    help="Also write the problems to FILE (.csv, .xlsx or .json).",
)
def validate_command(
    catalog: str,
    provider: str,
    sheet: str | None,
    mapping: str | None,
    house_rules: tuple[str, ...],
    encoding: str | None,
    delimiter: str | None,
    strict: bool,
    as_json: bool,
    report_file: Path | None,
) -> None:
    """Check CATALOG against the provider's schema. Nothing is sent.

    Every problem is listed with its sheet, cell (C17), original row number, column,
    value, a stable code (required, not-in-enum, bad-format, too-long, out-of-range,
    duplicate-key, upc-checksum, excel-damage, …) and a message saying how to fix it.
    Exit code 0 when the catalog is valid (warnings allowed), 3 when it is invalid,
    1 when the file cannot be read.

    \b
    Example:
      catalog-sync validate products.xlsx -p royalti
      catalog-sync validate products.csv -p keevault --json
      catalog-sync validate shop.xlsx -p jogg --sheet Products --mapping cols.yaml \\
          --schema house.yaml --report problems.xlsx
    """
    loaded, _spec, report = validate_catalog(
        catalog,
        provider,
        sheet=sheet,
        mapping=mapping,
        house_rules=house_rules,
        strict=strict,
        encoding=encoding,
        delimiter=delimiter,
    )
    if report_file is not None:
        write_problems(report, report_file)
    where = f"{Path(catalog).name}" + (f" ({loaded.sheet_name})" if loaded.sheet_name else "")
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        render(report, where)
    if not report.valid:
        raise InvalidCatalogError(f"{where} is invalid: {report.summary()}")


def write_problems(report: ValidationReport, path: Path) -> Path:
    """The problems of ``report`` as a CSV/XLSX/JSON file (JSON: the ``--json`` shape)."""
    rows = [p.to_dict() for p in report.problems]
    return write_table(
        rows,
        path,
        columns=PROBLEM_COLUMNS,
        text_columns=("cell", "column", "value"),
        status_column="severity",
        summary={
            "valid": report.valid,
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "file": report.path,
            "sheet": report.sheet,
        },
        json_root=report.to_dict(),
    )


def _short(value: str | None) -> str:
    if value is None:
        return ""
    text = repr(value)[1:-1] if any(not ch.isprintable() for ch in value) else value
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _row(p: Problem) -> list[Text]:
    colour = "red" if p.severity == "error" else "yellow"
    cells = [
        p.sheet or "",
        p.cell or "",
        "" if p.row is None else str(p.row),
        p.column or "",
        _short(p.value),
        p.code,
    ]
    return [*(Text(c) for c in cells), Text(p.severity, style=colour), Text(p.message)]


def render(report: ValidationReport, where: str, console: Console | None = None) -> None:
    """The human view: a table of problems (a compact list on narrow terminals) and the summary line."""
    console = console or Console(soft_wrap=False)
    if report.problems and console.width >= WIDE:
        table = Table(show_lines=False, header_style="bold")
        for name in PROBLEM_COLUMNS:
            # locations and codes never wrap; values and messages take the rest of the width
            wraps = name in ("value", "message", "sheet")
            table.add_column(name, no_wrap=not wraps, overflow="fold", ratio=3 if name == "message" else None)
        for problem in report.problems:
            table.add_row(*_row(problem))
        console.print(table)
    else:
        for p in report.problems:
            head = Text.assemble(
                (f"{p.cell or '-':<6}", "bold"),
                f" row {'-' if p.row is None else p.row:<5} ",
                (f"{p.severity:<8}", "red" if p.severity == "error" else "yellow"),
                f" {p.code}",
                f"  {p.column}" if p.column else "",
                f" = {_short(p.value)!r}" if p.value else "",
            )
            console.print(head, overflow="ellipsis", no_wrap=True)
            console.print(Text("    " + p.message))
    style = "green" if report.valid else "red"
    verdict = "valid" if report.valid else "invalid"
    console.print(Text(f"{report.summary()} in {where}: {verdict}", style=style))


COMMANDS: list[click.Command] = [validate_command]
