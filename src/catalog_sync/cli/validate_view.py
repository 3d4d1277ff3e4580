"""What ``catalog-sync validate`` does once it runs: validate, fix, write and render (the command
module only declares the options, so ``validate --help`` imports none of this)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import TextIO

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from catalog_sync.engine import choose_engine
from catalog_sync.errors import ConfigError, InvalidCatalogError
from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.sheets.write.fixed import write_fixed
from catalog_sync.sheets.write.report import (
    ReportShape,
    check_new_file,
    check_output,
    check_report,
    same_file,
    write_table,
)
from catalog_sync.validation import ValidationReport, validate_catalog
from catalog_sync.validation.annotate import Annotated, annotate_catalog
from catalog_sync.validation.fix import CellFix, certain_fixes
from catalog_sync.validation.result import PROBLEM_FIELDS, problem_dict

PROBLEM_COLUMNS = list(PROBLEM_FIELDS)
#: How a problem report is known again (``check_report`` overwrites no other existing file).
PROBLEM_REPORT = ReportShape(tuple(PROBLEM_COLUMNS), json_keys=("valid", "problems"))
_MAX_VALUE = 32
WIDE = 120  # narrower terminals get a list instead of the table
#: Problems the human view lists; the rest are counted per code (--json and --report have them all).
SHOWN = 200


def run_validate(
    catalog: str,
    provider: str,
    read: ReadOptions,
    strict: bool,
    as_json: bool,
    report_file: Path | None,
    fix: bool,
    fixed_file: Path | None,
    *,
    force: bool = False,
    annotated_file: Path | None = None,
    engine: str = "auto",
) -> None:
    """The validate command's work (see ``validate_cmd``)."""
    _check_fix_options(fix, fixed_file, catalog, read, force)
    if report_file is not None:
        _check_report(report_file, catalog, read, shape=PROBLEM_REPORT)
    if choose_engine(catalog, engine) == "disk":
        _check_disk_options(fix, annotated_file)
        _validate_on_disk(catalog, provider, read, strict, as_json, report_file)
        return
    if annotated_file is not None:
        _check_annotate(annotated_file, catalog, read, force, [report_file, fixed_file])
    loaded, spec, report = validate_catalog(
        catalog,
        provider,
        strict=strict,
        **read.as_kwargs(),
    )
    fixes: list[CellFix] | None = None
    if fixed_file is not None:
        fixes = certain_fixes(report)
        write_fixed(loaded, {f.cell: f.new for f in fixes}, fixed_file)
        loaded, report = _validate_fixed(fixed_file, loaded, provider, strict, read)
    if report_file is not None:
        write_problems(report, report_file)
    annotated = None if annotated_file is None else annotate_catalog(loaded, spec, report, annotated_file)
    where = f"{Path(catalog).name}" + (f" ({loaded.sheet_name})" if loaded.sheet_name else "")
    if fixed_file is not None:
        where = f"{fixed_file.name}" + (f" ({loaded.sheet_name})" if loaded.sheet_name else "")
    if as_json:
        write_json(report, sys.stdout, fixes=fixes, fixed_file=fixed_file)
    else:
        if fixes is not None and fixed_file is not None:
            render_fixes(fixes, catalog, fixed_file)
        render(report, where)
    if annotated is not None:
        _say_annotated(annotated, as_json)
    if not report.valid:
        raise InvalidCatalogError(f"{where} is invalid: {report.summary()}")


def _check_disk_options(fix: bool, annotated_file: Path | None) -> None:
    """Usage error (exit 2) for the options the out-of-core engine cannot take yet: they write the
    whole catalog again from memory."""
    given = [name for name, on in (("--fix", fix), ("--annotate", annotated_file)) if on]
    if given:
        raise click.UsageError(
            f"{' and '.join(given)} not yet with the out-of-core engine (a CSV too big for memory, or --engine "
            "disk): use --report FILE or --json for every problem"
        )


def _validate_on_disk(
    catalog: str, provider: str, read: ReadOptions, strict: bool, as_json: bool, report_file: Path | None
) -> None:
    """validate by the out-of-core engine: the problems rendered or written as they are read back."""
    from catalog_sync.engine import validate_file

    report = validate_file(catalog, provider, read, strict=strict, engine="disk")
    if report_file is not None:
        write_problems(report, report_file)
    where = Path(catalog).name
    if as_json:
        write_json(report, sys.stdout)
    else:
        render(report, where)
    if not report.valid:
        raise InvalidCatalogError(f"{where} is invalid: {report.summary()}")


def _check_fix_options(
    fix: bool, fixed_file: Path | None, catalog: str, read: ReadOptions, force: bool
) -> None:
    """Usage error (exit 2) for --fix without -o, -o without --fix, -o naming an input, or an
    existing -o without --force."""
    if fix and fixed_file is None:
        raise click.UsageError("--fix needs -o FIXED.xlsx|.csv: the catalog itself is never overwritten")
    if fixed_file is not None and not fix:
        raise click.UsageError("-o/--output is where --fix writes the repaired catalog; add --fix")
    if fixed_file is not None:
        _check_report(fixed_file, catalog, read, what="fixed catalog")
        check_new_file(fixed_file, force=force, what="fixed catalog")


def _check_annotate(
    target: Path, catalog: str, read: ReadOptions, force: bool, other_outputs: list[Path | None]
) -> None:
    """Usage error (exit 2) for --annotate naming an input (even with --force) or another output;
    OutputRefusedError (exit 2) for an existing file without --force."""
    _check_report(target, catalog, read, what="annotated copy")
    for other in other_outputs:
        if other is not None and same_file(target, other):
            raise click.UsageError(
                f"--annotate {target} is also where another output goes; name another file"
            )
    check_new_file(target, force=force, what="annotated copy")


def _say_annotated(annotated: Annotated, as_json: bool) -> None:
    """Where the annotated copy went (on stderr under --json, whose stdout is the JSON document only)."""
    cells = f"{annotated.cells} cell{'' if annotated.cells == 1 else 's'} marked"
    listed = f"{annotated.problems} problem{'' if annotated.problems == 1 else 's'} listed"
    click.echo(f"wrote the annotated copy {annotated.path} ({cells}, {listed})", err=as_json)


def _validate_fixed(
    fixed_file: Path, loaded: Sheet, provider: str, strict: bool, read: ReadOptions
) -> tuple[Sheet, ValidationReport]:
    """The repaired file validated as a catalog (what the exit code and problems then describe)."""
    sheet = loaded.sheet_name if fixed_file.suffix.lower() == ".xlsx" else None
    again, _spec, report = validate_catalog(
        fixed_file,
        provider,
        strict=strict,
        sheet=sheet,
        mapping=read.mapping,
        house_rules=read.house_rules,
        date_format=read.date_format,
    )
    return again, report


def render_fixes(
    fixes: list[CellFix], catalog: str, fixed_file: Path, console: Console | None = None
) -> None:
    """One line per changed cell (sheet!cell: old → new), then where the repaired catalog is."""
    console = console or Console(soft_wrap=False)
    for f in fixes:
        place = f"{f.sheet}!{f.cell}" if f.sheet else f.cell
        console.print(Text(f"fixed {place} ({f.column}): {_short(f.old)} → {_short(f.new)}  [{f.reason}]"))
    count = f"{len(fixes)} cell{'' if len(fixes) == 1 else 's'} fixed" if fixes else "nothing certain to fix"
    console.print(
        Text(f"{count}; wrote {fixed_file} (the rest of {Path(catalog).name} unchanged)", style="bold")
    )


def _check_report(
    target: Path, catalog: str, read: ReadOptions, what: str = "report", shape: ReportShape | None = None
) -> None:
    """Usage error (exit 2) when --report is the catalog or another input, or a symbolic link;
    with a ``shape`` (--report), also when it names an existing file that is not such a report (exit 2)."""
    inputs: list[tuple[str, str | Path | None]] = [("catalog", catalog), ("--mapping file", read.mapping)]
    inputs += [("--schema file", schema) for schema in read.house_rules]
    try:
        if shape is not None:
            check_report(target, inputs, shape)
        else:
            check_output(target, inputs, what=what)
    except ConfigError as exc:
        raise click.UsageError(exc.message) from None


def write_json(
    report: ValidationReport,
    out: TextIO,
    *,
    fixes: list[CellFix] | None = None,
    fixed_file: Path | None = None,
) -> None:
    """The ``--json`` document, one problem per line (fast and diff-friendly for big catalogs).

    With ``--fix`` it also holds ``"fixed"`` (each changed cell: sheet, cell, row, column, old, new,
    reason) and ``"output"`` (the repaired file); the problems are then those of the repaired file.
    """
    out.write('{"valid": %s, "problems": [' % ("true" if report.valid else "false"))
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    for n, problem in enumerate(report.problems):
        out.write(("\n  " if n == 0 else ",\n  ") + dumps(problem_dict(problem)))
    out.write("\n]" if report.problems else "]")
    if fixes is not None:
        out.write(', "fixed": [')
        for n, fix in enumerate(fixes):
            out.write(("\n  " if n == 0 else ",\n  ") + dumps(fix.to_dict()))
        out.write("\n]" if fixes else "]")
        out.write(', "output": ' + dumps(str(fixed_file)))
    out.write("}\n")
    out.flush()


def write_problems(report: ValidationReport, path: Path) -> Path:
    """The problems of ``report`` as a CSV/XLSX/JSON file (JSON: the ``--json`` shape).

    CSV and JSON are written a problem at a time as they are read (a catalog past memory keeps its
    problems on disk); a workbook is built whole, as a worksheet holds at most 1,048,576 rows."""
    return write_table(
        (problem_dict(p) for p in report.problems),
        path,
        columns=PROBLEM_COLUMNS,
        text_columns=("cell", "column", "value"),
        status_column="severity",
        summary={
            "valid": report.valid,
            "errors": report.count("error"),
            "warnings": report.count("warning"),
            "file": report.path,
            "sheet": report.sheet,
        },
        json_writer=lambda out: write_json(report, out),
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
        _short(p.column),
        _short(p.value),
        p.code,
    ]
    return [*(Text(c) for c in cells), Text(p.severity, style=colour), Text(p.message)]


def render(
    report: ValidationReport, where: str, console: Console | None = None, *, shown: int | None = None
) -> None:
    """The human view: a table of problems (a compact list on narrow terminals) and the summary line.

    At most ``shown`` (:data:`SHOWN`) problems are listed; when there are more, the rest are
    counted per code and severity, and the user is pointed at ``--json`` / ``--report``.
    """
    console = console or Console(soft_wrap=False)
    limit = SHOWN if shown is None else shown
    listed = list(islice(report.problems, limit))
    if listed and console.width >= WIDE:
        table = Table(show_lines=False, header_style="bold")
        for name in PROBLEM_COLUMNS:
            # locations and codes never wrap; values and messages take the rest of the width
            wraps = name in ("value", "message", "sheet")
            table.add_column(name, no_wrap=not wraps, overflow="fold", ratio=3 if name == "message" else None)
        for problem in listed:
            table.add_row(*_row(problem))
        console.print(table)
    else:
        for p in listed:
            head = Text.assemble(
                (f"{p.cell or '-':<6}", "bold"),
                f" row {'-' if p.row is None else p.row:<5} ",
                (f"{p.severity:<8}", "red" if p.severity == "error" else "yellow"),
                f" {p.code}",
                f"  {_short(p.column)}" if p.column else "",
                f" = {_short(p.value)!r}" if p.value else "",
            )
            console.print(head, overflow="ellipsis", no_wrap=True)
            console.print(Text("    " + p.message))
    counts = Counter((p.code, p.severity) for p in islice(report.problems, limit, None))
    if counts:
        parts = ", ".join(f"{n} {code} ({severity})" for (code, severity), n in counts.most_common())
        console.print(
            Text(
                f"Only the first {len(listed)} of {len(report.problems)} problems are listed; not listed: "
                f"{parts}. Use --json or --report FILE for all of them.",
                style="bold",
            )
        )
    style = "green" if report.valid else "red"
    verdict = "valid" if report.valid else "invalid"
    console.print(Text(f"{report.summary()} in {where}: {verdict}", style=style))
