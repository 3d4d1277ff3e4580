"""``catalog-sync validate``: check a catalog against a provider's schema; nothing is sent."""

from __future__ import annotations

from pathlib import Path

import click

from catalog_sync.config.defaults import FIXED_SUFFIXES, REPORT_SUFFIXES
from catalog_sync.sheets.options import ReadOptions

from .options import engine_option, json_option, path_ending_in, provider_option, sheet_options


@click.command("validate")
# No exists=True: a missing file is "could not run" (exit 1, InputError from the loader), not a usage error.
@click.argument("catalog", type=click.Path(dir_okay=False))
@provider_option
@sheet_options
@click.option(
    "--strict", is_flag=True, help="Treat warnings (UPC check digits, numbers in id columns, …) as errors."
)
@json_option
@engine_option
@click.option(
    "--report",
    "report_file",
    callback=path_ending_in(REPORT_SUFFIXES, "the report"),
    metavar="FILE",
    help="Also write the problems to FILE (.csv, .xlsx or .json); an existing FILE that is not a problem "
    "report catalog-sync wrote is refused.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Write the catalog with the certain repairs applied to -o FILE (UPCs whose check digit confirms "
    "the lost leading zeros, workbook date serials as ISO dates, a date column written in one local form "
    "as ISO dates); everything else is left as it is.",
)
@click.option(
    "-o",
    "--output",
    "fixed_file",
    callback=path_ending_in(FIXED_SUFFIXES, "the fixed catalog"),
    metavar="FIXED.xlsx|.ods|.csv",
    help="With --fix: where to write the repaired catalog (never the catalog itself).",
)
@click.option(
    "--annotate",
    "annotated_file",
    callback=path_ending_in((".xlsx",), "the annotated copy"),
    metavar="OUT.xlsx",
    help="Also write a copy of the catalog (a CSV, xls or ods becomes xlsx, every cell as text) with each "
    "problem cell coloured by severity and commented with its code and fix, and a Problems sheet "
    "linking to the cells. An .xlsm copy is saved without its macros. Never the catalog itself.",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --fix or --annotate: overwrite -o FILE / OUT.xlsx if it exists (it may hold your edits).",
)
def validate_command(
    catalog: str,
    provider: str,
    read: ReadOptions,
    strict: bool,
    as_json: bool,
    engine: str,
    report_file: Path | None,
    fix: bool,
    fixed_file: Path | None,
    annotated_file: Path | None,
    force: bool,
) -> None:
    """Check CATALOG against the provider's schema. Nothing is sent.

    Every problem is listed with its sheet, cell (C17), original row number, column,
    value, a stable code (required, not-in-enum, bad-format, too-long, out-of-range,
    duplicate-key, upc-checksum, excel-damage, local-date-format, …) and a message saying how to fix it.
    Exit code 0 when the catalog is valid (warnings allowed), 3 when it is invalid,
    1 when the file cannot be read.

    \b
    Example:
      catalog-sync validate products.xlsx -p royalti
      catalog-sync validate products.csv -p keevault --json
      catalog-sync validate shop.xlsx -p jogg --sheet Products --mapping cols.yaml \\
          --schema house.yaml --report problems.xlsx
      catalog-sync validate products.xlsx -p royalti --fix -o fixed.xlsx
      catalog-sync validate products.csv -p keevault --annotate problems-marked.xlsx
      catalog-sync validate us-export.csv -p royalti --date-format MM/DD/YYYY
      catalog-sync validate ten-million-rows.csv -p royalti --engine disk --report problems.csv
    """
    from catalog_sync.cli.validate_view import run_validate

    run_validate(
        catalog,
        provider,
        read,
        strict,
        as_json,
        report_file,
        fix,
        fixed_file,
        force=force,
        annotated_file=annotated_file,
        engine=engine,
    )


#: What the command imports when it runs, loaded first with the collector paused (``cli.main.load_paused``).
LOADS = ("catalog_sync.cli.validate_view",)

COMMANDS: list[click.Command] = [validate_command]
