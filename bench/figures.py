"""The issue's figures, each measured beside its anchor in this one run (issue 10, item 7).

Every figure returns a :class:`~bench.report.Figure`; a figure that cannot be measured
(refused, tool missing, a child failed) says so in its status and note instead
of stopping the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import anchors, parts
from bench.generate import make_big_catalog, make_catalog
from bench.measure import ProcessRun, best_of, catalog_sync, python, run_process
from bench.report import Check, Figure, Target
from bench.sizes import Sizes

GB = 1024.0  # MB per GB (peak RSS is measured in MiB)


def _seconds(run: ProcessRun | dict[str, Any] | None) -> float | None:
    if run is None:
        return None
    return run.seconds if isinstance(run, ProcessRun) else float(run["seconds"])


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or bottom is None or bottom <= 0 else top / bottom


def _took(run: ProcessRun | dict[str, Any] | None, label: str = "") -> str:
    seconds = _seconds(run)
    if seconds is None:
        return "—"
    rss = run.peak_rss_mb if isinstance(run, ProcessRun) else run.get("peak_rss_mb")  # type: ignore[union-attr]
    shown = f"{label} {seconds:.2f} s".strip()
    return f"{shown}, {rss:,.0f} MB" if rss else shown


def _first_error(run: ProcessRun) -> str:
    lines = [line.strip() for line in (run.stderr + "\n" + run.stdout).splitlines() if line.strip()]
    return lines[0][:300] if lines else f"exit {run.returncode}"


# validate ------------------------------------------------------------------------------------
def validate(sizes: Sizes, work: Path) -> Figure:
    """``catalog-sync validate`` of a generated catalog vs pyarrow's parse and frictionless."""
    n = sizes.rows
    catalog = make_catalog("royalti", n, work / f"validate-{n}.csv")
    figure = Figure("validate", f"validate {n:,} rows", {"rows": n, "provider": "royalti"})
    ours = run_process(catalog_sync("validate", str(catalog), "-p", "royalti"), timeout=sizes.timeout_s)
    floor = run_process(anchors.command("parse-floor", str(catalog)), timeout=sizes.timeout_s)
    friction, schema = _frictionless(catalog, work, sizes.timeout_s)
    figure.measurements = {
        "file_mb": round(catalog.stat().st_size / 2**20, 1),
        "ours": ours.to_dict(),
        "parse_floor": floor.to_dict(),
        "frictionless": friction.to_dict() if friction else None,
        "frictionless_schema": schema,
    }
    figure.status, notes = _validate_status(ours, friction, catalog)
    figure.checks = _validate_checks(ours, floor, friction)
    figure.note = "; ".join(notes)
    return figure


def _validate_status(ours: ProcessRun, friction: ProcessRun | None, catalog: Path) -> tuple[str, list[str]]:
    """The figure's status (by our exit code: 1 = could not run, e.g. refused) and its notes."""
    from bench.tableschema import not_expressible

    status, notes = "measured", []
    if ours.returncode == 1:
        status = "refused"
        notes.append(f"ours refused the catalog: {_first_error(ours)}")
    elif not ours.ok:
        status = "failed"
        notes.append(f"ours exited {ours.returncode}: {_first_error(ours)}")
    if friction is None:
        notes.append("frictionless is not installed here (make bench installs it into .venv-bench)")
    elif not friction.ok:
        notes.append(f"frictionless exited {friction.returncode}: it found problems, see its output")
    gaps = not_expressible(_spec(), _header(catalog))
    if gaps:
        notes.append("frictionless cannot check: " + "; ".join(gaps))
    return status, notes


def _validate_checks(ours: ProcessRun, floor: ProcessRun, friction: ProcessRun | None) -> list[Check]:
    mine = ours if ours.ok else None
    shown = _took(ours, "" if ours.ok else f"exit {ours.returncode} after")
    friction_s = friction.seconds if friction is not None and friction.ok else None
    return [
        Check(
            "÷ parse floor",
            shown,
            _took(floor, "pyarrow"),
            _ratio(_seconds(mine), floor.seconds),
            Target("<=", 8),
        ),
        Check(
            "frictionless ÷ ours",
            shown,
            _took(friction, "frictionless"),
            _ratio(friction_s, _seconds(mine)),
            Target(">=", 10),
        ),
        Check("peak RSS", shown, "", mine.peak_rss_mb / GB if mine else None, Target("<=", 1.5, "GB")),
    ]


# validate past memory ---------------------------------------------------------------------------
def validate_big(sizes: Sizes, work: Path) -> Figure:
    """``validate --engine disk`` of a 10M-row catalog (``--big-rows``), whole process, beside the 1M
    in-memory figure measured again here (issue 20 item 6: within 2 GB peak RSS)."""
    n, m = sizes.big_rows, sizes.rows
    big = make_big_catalog("royalti", n, work / f"validate-{n}.csv")
    figure = Figure("validate-10m", f"validate {n:,} rows out of core", {"rows": n, "provider": "royalti"})
    ours = run_process(
        catalog_sync("validate", str(big), "-p", "royalti", "--engine", "disk"), timeout=sizes.timeout_s
    )
    small = make_catalog("royalti", m, work / f"validate-{m}.csv")
    memory = run_process(
        catalog_sync("validate", str(small), "-p", "royalti", "--engine", "memory"), timeout=sizes.timeout_s
    )
    big.unlink()  # 1.3 GB at 10M rows
    figure.measurements = {
        "file_mb": round(n * small.stat().st_size / m / 2**20, 1),
        "ours": ours.to_dict(),
        "memory_engine": {"rows": m, **memory.to_dict()},
    }
    mine = ours if ours.ok else None
    shown = _took(ours, "" if ours.ok else f"exit {ours.returncode} after")
    per_row = _ratio(_seconds(mine), n)
    figure.checks = [
        Check("peak RSS", shown, "", mine.peak_rss_mb / GB if mine else None, Target("<=", 2.0, "GB")),
        Check(
            "time per row ÷ in memory",
            shown,
            _took(memory, f"{m:,} rows in memory"),
            _ratio(per_row, _ratio(_seconds(memory if memory.ok else None), m)),
            Target("<=", 3),
        ),
    ]
    figure.status = "measured" if ours.ok else "failed"
    figure.note = "" if ours.ok else _first_error(ours)
    return figure


# plan past memory ----------------------------------------------------------------------------
def plan_big(sizes: Sizes, work: Path) -> Figure:
    """``plan --engine disk -o plan.json`` of N rows (``--plan-big-rows``, 10M) vs N records served by
    the fast stand-in (its pages made on asking), whole process: peak RSS ≤ 2 GB (issue 20 item 6)."""
    from bench.fast_server import fast_listing
    from bench.remote import KEY, write_catalog

    n = sizes.plan_big_rows
    figure = Figure(
        "plan-10m", f"plan {n:,} vs {n:,} remote out of core, fast server", {"rows": n, "records": n}
    )
    catalog, saved = work / f"plan-{n}.csv", work / f"plan-{n}.json"
    edits = write_catalog(catalog, n, changed_every=100)
    with fast_listing(n, lazy=True) as url:
        limits = ("--max-records", str(n), "--max-pages", str(n // 100 + 1))  # past the defaults (5M, 50,000)
        command = catalog_sync(
            "plan", str(catalog), "-p", "royalti", "--engine", "disk", "-o", str(saved), *limits
        )
        env = {"ROYALTI_API_KEY": KEY, "ROYALTI_BASE_URL": url}
        ours = run_process([*command, "--state", str(work / "plan-big.db")], env=env, timeout=sizes.timeout_s)
    figure.measurements = {
        "file_mb": round(catalog.stat().st_size / 2**20, 1),
        "changed": edits,
        "ours": ours.to_dict(),
        "plan_file_mb": round(saved.stat().st_size / 2**20, 1) if saved.exists() else None,
        "plan_file_bytes": saved.stat().st_size if saved.exists() else None,
    }
    catalog.unlink()
    saved.unlink(missing_ok=True)
    mine = ours if ours.ok else None
    shown = _took(ours, "" if ours.ok else f"exit {ours.returncode} after")
    figure.checks = [
        Check("peak RSS", shown, "", mine.peak_rss_mb / GB if mine else None, Target("<=", 2.0, "GB")),
    ]
    figure.status = "measured" if ours.ok else "failed"
    figure.note = "" if ours.ok else _first_error(ours)
    return figure


def _spec() -> Any:
    from catalog_sync.spec import load_spec

    return load_spec("royalti")


def _header(catalog: Path) -> list[str]:
    import csv

    with catalog.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def _frictionless(catalog: Path, work: Path, timeout: float) -> tuple[ProcessRun | None, str]:
    """``frictionless validate`` with our rules as a Table Schema written beside the catalog."""
    from bench.tableschema import table_schema

    schema = work / "royalti.schema.json"
    schema.write_text(json.dumps(table_schema(_spec(), _header(catalog)), indent=2), encoding="utf-8")
    command = anchors.frictionless_command(schema, catalog)
    return (run_process(command, timeout=timeout) if command else None), str(schema)


# xlsx ----------------------------------------------------------------------------------------
_LOAD = "import sys; from catalog_sync.sheets import load_sheet; print(len(load_sheet(sys.argv[1]).data))"


def xlsx(sizes: Sizes, work: Path) -> Figure:
    """Our workbook reader (``load_sheet``) vs openpyxl read-only on the same xlsx."""
    import pandas as pd

    from catalog_sync.sheets import write_xlsx

    n = sizes.xlsx_rows
    catalog = make_catalog("royalti", n, work / f"xlsx-{n}.csv")
    book = work / f"xlsx-{n}.xlsx"
    frame = pd.read_csv(catalog, dtype=str, keep_default_na=False)
    write_xlsx(frame, book, text_columns=list(frame.columns))
    ours = run_process(python("-c", _LOAD, str(book)), timeout=sizes.timeout_s)
    anchor = run_process(anchors.command("openpyxl-read", str(book)), timeout=sizes.timeout_s)
    figure = Figure("xlsx", f"read a {n:,}-row xlsx", {"rows": n, "columns": len(frame.columns)})
    figure.measurements = {
        "ours": ours.to_dict(),
        "openpyxl": anchor.to_dict(),
        "file_mb": round(book.stat().st_size / 2**20, 1),
    }
    if not (ours.ok and anchor.ok):
        figure.status = "failed"
        figure.note = f"a reader failed: {_first_error(ours if not ours.ok else anchor)}"
    elif ours.stdout.split()[-1:] != [str(n)]:
        figure.status = "failed"
        figure.note = f"ours read {ours.stdout.strip()!r} rows, not {n}"
    mine = ours if figure.status == "measured" else None
    figure.checks = [
        Check(
            "openpyxl ÷ ours",
            _took(mine),
            _took(anchor, "openpyxl read-only"),
            _ratio(anchor.seconds, _seconds(mine)),
            Target(">=", 5),
        ),
        Check(  # the same in CPU seconds: what the machine's load moves least
            "openpyxl ÷ ours, CPU seconds",
            f"{mine.cpu_seconds:.2f} s CPU" if mine else "",
            f"openpyxl {anchor.cpu_seconds:.2f} s CPU",
            _ratio(anchor.cpu_seconds, mine.cpu_seconds if mine else None),
            Target(">=", 5),
        ),
    ]
    return figure


# remote figures ------------------------------------------------------------------------------
def _remote_figure(figure: Figure, sizes: Sizes) -> dict[str, Any] | None:
    """Measure remote ``figure``; None (and a failed figure) when it broke."""
    try:
        result, source = parts.measure_remote(figure.name, sizes)
    except Exception as exc:  # the bench reports a broken figure and goes on with the others
        figure.status, figure.note = "failed", f"{type(exc).__name__}: {exc}"[:500]
        return None
    figure.measurements = {"source": source, **result}
    return result


def _missing(figure: Figure, result: dict[str, Any], keys: tuple[str, ...]) -> bool:
    absent = [k for k in keys if k not in result]
    if absent:
        figure.status = "failed"
        figure.note = f"the measurement returned no {', '.join(absent)} (it returned {', '.join(result)})"
    return bool(absent)


def _plan_figure(
    name: str, title: str, sizes: Sizes, extra: tuple[str, ...] = ()
) -> tuple[Figure, dict[str, Any] | None]:
    """A plan figure of N rows vs N remote records: ours ÷ a sequential read of the same pages (≤ 1.5×);
    the measurement too (None when it broke or lacks ``extra`` keys)."""
    n = sizes.plan_rows
    figure = Figure(
        name,
        f"plan {n:,} vs {n:,} remote{title}",
        {"rows": n, "records": n, "changed_share": sizes.changed_share},
    )
    result = _remote_figure(figure, sizes)
    ours = sequential = None
    if result is not None and not _missing(figure, result, ("ours", "sequential", *extra)):
        ours, sequential = result["ours"], result["sequential"]
    else:
        result = None
    figure.checks = [
        Check(
            "÷ sequential read",
            _took(ours),
            _took(sequential, "requests, one page after another"),
            _ratio(_seconds(ours), _seconds(sequential)),
            Target("<=", 1.5),
        )
    ]
    return figure, result


def plan(sizes: Sizes, work: Path) -> Figure:
    """``catalog-sync plan`` N rows vs N remote records (1% changed) vs a sequential read of the pages."""
    return _plan_figure("plan", "", sizes)[0]


def plan_fast(sizes: Sizes, work: Path) -> Figure:
    """``catalog-sync plan`` of the same catalog against the fast stand-in server vs a sequential read
    of its pages: what the client itself costs, with the server's cost taken away."""
    figure, result = _plan_figure("plan-fast", ", fast server", sizes, ("plan_cpu_ms_per_1000_records",))
    if result is not None:
        figure.note = f"client CPU {result['plan_cpu_ms_per_1000_records']:,} ms per 1,000 records listed"
    return figure


def plan_saved(sizes: Sizes, work: Path) -> Figure:
    """``catalog-sync plan -o plan.json`` of the same catalog against the fast server: its peak RSS
    (≤ 1.5 GB at 1M vs 1M) beside ``plan`` alone, and the file's bytes per row (≤ ~100)."""
    n = sizes.plan_rows
    figure = Figure(
        "plan-saved",
        f"plan -o plan.json {n:,} vs {n:,} remote, fast server",
        {"rows": n, "records": n, "changed_share": sizes.changed_share},
    )
    result = _remote_figure(figure, sizes)
    if result is not None and _missing(figure, result, ("ours", "shown", "bytes_per_row")):
        result = None
    ours, shown = (result["ours"], result["shown"]) if result else (None, None)
    rss = None if ours is None else float(ours["peak_rss_mb"]) / 1024
    figure.checks = [
        Check("peak RSS", _took(ours), _took(shown, "plan without -o"), rss, Target("<=", 1.5, "GB")),
        Check(
            "bytes per row",
            "—" if result is None else f"{result['file_bytes'] / 2**20:,.1f} MB file",
            "" if result is None else f"{n:,} rows, {result['unchanged']:,} unchanged",
            None if result is None else float(result["bytes_per_row"]),
            Target("<=", 100, "B"),
        ),
    ]
    return figure


def apply(sizes: Sizes, work: Path) -> Figure:
    """``catalog-sync apply`` of N updates at a fixed latency vs 8 plain concurrent clients."""
    n, latency = sizes.updates, sizes.latency_ms
    figure = Figure("apply", f"apply {n:,} updates at {latency:g} ms", {"updates": n, "latency_ms": latency})
    result = _remote_figure(figure, sizes)
    ours_rate = writes_rate = plain_rate = None
    if result is not None and not _missing(figure, result, ("ours_per_s", "plain_per_s")):
        plain_rate, ours_rate = float(result["plain_per_s"]), float(result["ours_per_s"])
        writes_rate = result.get("ours_writes_per_s")
    clients = "—" if plain_rate is None else f"8 clients {plain_rate:,.1f} updates/s"
    figure.checks = [
        Check(
            f"{phase} ÷ 8 plain clients",
            "—" if rate is None else f"{rate:,.1f} updates/s",
            clients,
            _ratio(rate, plain_rate),
            Target(">=", 0.85, "%"),
        )
        for phase, rate in (("whole process", ours_rate), ("writes phase", writes_rate))
    ]
    figure.note = figure.note or (
        "whole process: start-up, the listing read and the plan count; writes phase: the seconds "
        "apply's report gives for sending" + _apply_rest(result)
    )
    return figure


def _apply_rest(result: dict[str, Any] | None) -> str:
    """What each apply spent besides sending, and its CPU seconds (the parts load stretches)."""
    if not result or "apply_other_runs_s" not in result:
        return ""
    rest = ", ".join(f"{x:.2f}" for x in result["apply_other_runs_s"])
    cpu = ", ".join(f"{x:.2f}" for x in result.get("apply_cpu_runs_s", []))
    return (
        f"; besides sending: {rest} s per run (client CPU {cpu} s), best of {result.get('rounds', 1)} rounds"
    )


def pacing(sizes: Sizes, work: Path) -> Figure:
    """A default ``apply`` against a sandbox limiting to R requests/s: share of R and of 429s."""
    rps, n = sizes.rps, sizes.pacing_updates
    figure = Figure("pacing", f"default apply vs {rps:g} req/s limit", {"rps": rps, "updates": n})
    result = _remote_figure(figure, sizes)
    share = share_429 = None
    achieved = "—"
    if result is not None and not _missing(figure, result, ("share_of_r", "share_429")):
        share, share_429 = result["share_of_r"], result["share_429"]
        rate = result.get("achieved_rps")
        achieved = "—" if rate is None else f"{rate:,.1f} req/s"
    figure.checks = [
        Check("share of R", achieved, f"R = {rps:g} req/s", share, Target(">=", 0.95, "%")),
        Check(
            "share of 429s",
            "—" if share_429 is None else f"{result.get('answered_429') if result else '—'} answered 429",
            "",
            share_429,
            Target("<=", 0.02, "%"),
        ),
    ]
    return figure


# --help --------------------------------------------------------------------------------------
HELP_COMMANDS = ("validate", "template", "plan", "apply", "pull", "run", "runs", "sandbox")


def help_(sizes: Sizes, work: Path) -> Figure:
    """``catalog-sync --help`` and each command's ``--help``, best of a few, whole processes."""
    repeats = sizes.help_repeats
    floor = best_of(repeats, python("-c", "import click"))
    seconds = {"top level": best_of(repeats, catalog_sync("--help")).seconds}
    for command in HELP_COMMANDS:
        seconds[command] = best_of(repeats, catalog_sync(command, "--help")).seconds
    slowest = max(seconds, key=lambda k: seconds[k])
    figure = Figure("help", "--help", {"commands": len(seconds), "repeats": repeats})
    figure.measurements = {
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "import_click_s": round(floor.seconds, 4),
        "slowest": slowest,
    }
    figure.checks = [
        Check(
            f"slowest ({slowest})",
            f"{seconds[slowest]:.3f} s",
            f"import click {floor.seconds:.3f} s",
            seconds[slowest],
            Target("<", 0.3, "s"),
        )
    ]
    return figure


FIGURES: dict[str, Callable[[Sizes, Path], Figure]] = {
    "validate": validate,
    "validate-10m": validate_big,
    "plan-10m": plan_big,
    "plan": plan,
    "plan-fast": plan_fast,
    "plan-saved": plan_saved,
    "xlsx": xlsx,
    "apply": apply,
    "pacing": pacing,
    "help": help_,
}
