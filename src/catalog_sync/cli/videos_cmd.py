"""``catalog-sync videos`` (JoggAI product videos from a sheet) and ``catalog-sync options`` (the ids)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from catalog_sync.config.defaults import REPORT_SUFFIXES
from catalog_sync.errors import ConfigError
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.text import safe_text

from .options import PROVIDER_NAMES, json_option, path_ending_in, sheet_options
from .sync_options import connection_options, limit_options

if TYPE_CHECKING:  # the heavy modules are imported when the command runs (--help needs none)
    from rich.console import Console

    from catalog_sync.errors import InvalidCatalogError
    from catalog_sync.providers.base import ClientLimits
    from catalog_sync.videos import CostSummary, VideosHooks

OPTION_KINDS = ("avatars", "voices", "music", "styles", "credits")


def _provider_option(f: Any) -> Any:
    return click.option(
        "-p",
        "--provider",
        type=click.Choice(PROVIDER_NAMES, case_sensitive=False),
        default="jogg",
        show_default=True,
        help="Provider (product videos are JoggAI's).",
    )(f)


def cost_line(cost: CostSummary) -> str:
    """``3 video(s) to create, 3 credits; 97 credits left on the account (2 already made)``."""
    left = "unknown" if cost.remaining is None else f"{cost.remaining:g}"
    text = (
        f"{cost.videos} video(s) to create, {cost.credits:g} credit(s); {left} credit(s) left on the account"
    )
    if cost.existing:
        text += f" ({cost.existing} row(s) already have their video: nothing is sent for them)"
    return text


def _interactive() -> bool:
    """Whether a person can answer the confirmation (stdin is a terminal)."""
    return sys.stdin.isatty()


def _confirm(cost: CostSummary, yes: bool) -> None:
    if yes:
        return
    if not _interactive():
        raise ConfigError(
            f"the run creates {cost.videos} video(s) for {cost.credits:g} credit(s) and stdin is not a terminal, "
            "so nothing can be confirmed; pass --yes to create them without asking (nothing was sent)"
        )
    try:
        confirmed = click.confirm(
            f"Create {cost.videos} video(s) for {cost.credits:g} credit(s)?", default=False, err=True
        )
    except click.Abort:  # Ctrl+C (or end of input) at the prompt: an interrupted run, nothing sent
        raise KeyboardInterrupt from None
    if not confirmed:
        raise ConfigError("not confirmed; nothing was sent")


class _Bars:
    """Progress bars on stderr (creating, then waiting); off for --json or when stderr is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None

    def start(self, label: str, total: int) -> None:
        self.stop()
        if not (self.enabled and total):
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.task = self.bar.add_task(label, total=total)
        self.bar.start()

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _hooks(yes: bool, as_json: bool, err: Console, bars: _Bars) -> VideosHooks:
    from catalog_sync.videos import VideosHooks

    def cost(summary: CostSummary) -> None:
        if not as_json:
            err.print(cost_line(summary), markup=False)
            for note in summary.notes:
                err.print(f"note: {note}", style="yellow", markup=False)
            if summary.new_ledger:
                err.print(
                    "note: this state database knows no JoggAI video made earlier at this address; if this "
                    "sheet was run before with another --state, its videos would be made (and paid for) again",
                    style="yellow",
                    markup=False,
                )
            if summary.short:
                err.print(
                    f"note: the account's {summary.remaining:g} credit(s) do not cover the run: creating stops "
                    "when they run out (the rest are reported not-started)",
                    style="yellow",
                    markup=False,
                )

    def confirm(summary: CostSummary) -> None:
        _confirm(summary, yes)
        bars.start("creating", summary.videos)

    def waiting(total: int) -> None:
        bars.start("waiting for JoggAI", total)

    def polled(row: dict[str, Any]) -> None:
        if row["status"] in ("completed", "failed"):
            bars.advance()

    return VideosHooks(
        cost=cost, confirm=confirm, created=lambda row: bars.advance(), waiting=waiting, polled=polled
    )


def _render(rows: list[dict[str, Any]], summary: dict[str, Any], report: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    table.add_column("row", no_wrap=True)
    table.add_column("video", overflow="fold")
    table.add_column("product", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("video id / URL / error", overflow="fold")
    for r in rows:
        table.add_row(
            safe_text(str(r["row"])),
            safe_text(r["video_name"] or "(no name)"),
            safe_text(r["product_name"] or r["product"]),
            safe_text(f"{r['action']} {r['status']}" if r["action"] != "create" else r["status"]),
            safe_text(_video_detail(r)),
        )
    out = Console(soft_wrap=False)
    if rows:
        out.print(table)
    counts = ", ".join(f"{n} {s}" for s, n in summary["status"].items()) or "no rows"
    out.print(
        f"{summary['created']} created, {summary['kept']} already made; {counts}; "
        f"{summary['credits_spent']:g} credit(s) spent. Report: {report}",
        markup=False,
    )


def _video_detail(row: dict[str, Any]) -> str:
    """The video's id and URL (whole: they are copied), or why it is not made."""
    parts = [str(row[k]) for k in ("video_id", "video_url") if row.get(k)]
    problem = row.get("error") or row.get("note") or ""
    return "\n".join([*parts, str(problem)[:300]] if problem else parts)


@click.command("videos")
@click.argument("sheet_path", metavar="VIDEOS.csv|.xlsx")
@_provider_option
@sheet_options
@connection_options
@click.option(
    "--yes", "-y", is_flag=True, help="Create without asking for confirmation (required when not a TTY)."
)
@click.option(
    "--force",
    is_flag=True,
    help="Create every row's video again, even when the state database has it (costs credits).",
)
@click.option("--retry-failed", is_flag=True, help="Create again the rows whose earlier video failed.")
@click.option(
    "--retry-unknown",
    is_flag=True,
    help="Create again the rows whose earlier create is unknown (its answer was lost and the video is not "
    "in JoggAI's list yet). A video may exist: it may be made, and paid for, twice.",
)
@click.option(
    "--max-credits",
    type=click.FloatRange(min=0),
    default=None,
    metavar="N",
    help="Refuse (exit 6, nothing sent) a run that would take more than N credits.",
)
@click.option(
    "--wait", is_flag=True, help="Poll each video until it is completed or failed (JoggAI's schedule)."
)
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=1),
    default=1800.0,
    show_default=True,
    metavar="SECONDS",
    help="With --wait: stop waiting after this long (videos still processing: exit 4).",
)
@click.option(
    "--report",
    "report_file",
    callback=path_ending_in(REPORT_SUFFIXES, "the report"),
    metavar="FILE",
    help="Write the per-row report to FILE (.csv, .xlsx, .json); default: next to the state database. "
    "An existing FILE that is not a report catalog-sync wrote is refused.",
)
@limit_options
@json_option
@click.pass_context
def videos_command(
    ctx: click.Context,
    sheet_path: str,
    provider: str,
    read: ReadOptions,
    base_url: str | None,
    state_path: str,
    rate: float | None,
    concurrency: int | None,
    timeout: float,
    yes: bool,
    force: bool,
    retry_failed: bool,
    retry_unknown: bool,
    max_credits: float | None,
    wait: bool,
    wait_timeout: float,
    report_file: Path | None,
    limits: ClientLimits,
    as_json: bool,
) -> None:
    """Create JoggAI product videos for the rows of a video sheet, and record each video id.

    One row per wanted video: the product (product_id, or the url or name of a product
    `apply -p jogg` created), avatar_id, avatar_type, voice_id, music_id, visual_style,
    aspect_ratio, length, caption, video_name, script_style, language, override_script,
    webhook_url (`catalog-sync template -p jogg --kind videos` writes the sheet). The number of
    videos, the credits they take (1 per 2 minutes of video, at least 1) and the account's
    remaining credits are shown first, then confirmed. A rerun creates nothing for rows whose
    product and settings already have a video (--force does). A create whose answer was lost
    is looked for in JoggAI's video list, never sent again: found, the row gets its video; not
    found but sent long enough ago, it never reached JoggAI and is created again; otherwise the
    row is unknown until a later run finds it (or --retry-unknown creates it again). An invalid
    sheet lists its problems (--report writes them) and sends nothing. Ctrl+C or SIGTERM stops
    the run with the rows done so far recorded and the report written (exit 130 / 143). Exit
    0 all ok, 2 usage, 3 invalid sheet, 4 some rows failed, unknown or not started (credits ran
    out), 6 --max-credits refused the run.

    \b
    Example:
      catalog-sync videos videos.xlsx -p jogg --max-credits 20 --wait --report videos-report.xlsx
      catalog-sync options -p jogg avatars
    """
    from rich.console import Console

    from catalog_sync.errors import InvalidCatalogError
    from catalog_sync.run import Target
    from catalog_sync.validation.gate import problems_as_json
    from catalog_sync.videos import VideosRequest, Waiter, run_videos

    if provider != "jogg":
        raise click.UsageError(f"videos are made by JoggAI only (-p jogg), not by {provider}")
    request = VideosRequest(
        target=Target(provider, base_url, Path(state_path), rate, concurrency, timeout, limits),
        sheet=sheet_path,
        read=read,  # the video sheet has its own schema: no --schema (see below)
        force=force,
        retry_failed=retry_failed,
        retry_unknown=retry_unknown,
        max_credits=max_credits,
        wait=wait,
        waiter=Waiter(timeout=wait_timeout),
        report=report_file,
    )
    err = Console(stderr=True, soft_wrap=True)  # a message line stays one line in a log
    bars = _Bars(not as_json and sys.stderr.isatty())
    if retry_unknown and not as_json:
        err.print(
            "warning: --retry-unknown creates again the rows whose earlier create is unknown; JoggAI may "
            "have made that video already, and it would then be made (and paid for) twice",
            style="yellow",
            markup=False,
        )
    try:
        with problems_as_json(as_json):
            outcome = run_videos(request, _hooks(yes, as_json, err, bars))
    except InvalidCatalogError as invalid:
        _show_problems(invalid, as_json, report_file)
        raise
    finally:
        bars.stop()
    if as_json:
        body = {"summary": outcome.summary, "rows": outcome.rows, "report": str(outcome.report)}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        _render(outcome.rows, outcome.summary, outcome.report)
    if outcome.error is not None:
        raise outcome.error
    ctx.exit(outcome.exit_code)


def _show_problems(invalid: InvalidCatalogError, as_json: bool, report_file: Path | None) -> None:
    """An invalid sheet: its problems listed as ``validate`` lists them, and written to ``--report``."""
    from catalog_sync.validation import ValidationReport

    from .validate_view import render, write_problems

    report = invalid.context.get("report")
    if not isinstance(report, ValidationReport):
        return
    if report_file is not None:
        write_problems(report, report_file)
    if not as_json:
        render(report, report.sheet or "the video sheet")


@click.command("options")
@click.argument("kind", type=click.Choice(OPTION_KINDS))
@_provider_option
@click.option(
    "--base-url",
    default=None,
    help="Provider API base URL (default: JOGG_BASE_URL or the public API).",
)
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True, help="Seconds per answer."
)
@json_option
def options_command(kind: str, provider: str, base_url: str | None, timeout: float, as_json: bool) -> None:
    """List the avatar, voice, music or style ids a video sheet takes (every page of JoggAI's list),
    or the account's remaining credits.

    avatars fill avatar_id (with avatar_type 0 public, 1 custom), voices voice_id, music
    music_id, styles visual_style (by name); credits is what videos can still spend.

    \b
    Example:
      catalog-sync options -p jogg avatars
      catalog-sync options -p jogg voices --json
      catalog-sync options -p jogg credits
    """
    from catalog_sync.run import Target
    from catalog_sync.videos import fetch_options

    listed = fetch_options(Target(provider, base_url, timeout=timeout), kind)
    if as_json:
        click.echo(json.dumps(listed.to_dict(), ensure_ascii=False, indent=2))
        return
    if kind == "credits":
        credits = listed.items[0]["remaining_credits"]
        click.echo(
            f"Remaining credits: {'unknown (JoggAI gave no number)' if credits is None else f'{credits:g}'}"
        )
        return
    if sys.stdout.isatty():
        from rich.console import Console

        print_options(listed, Console(soft_wrap=False))
    else:  # piped: one tab-separated line per item, nothing cut
        click.echo("\t".join(listed.columns))
        for item in listed.items:
            click.echo("\t".join(safe_text(str(item.get(c, ""))).replace("\t", " ") for c in listed.columns))


def print_options(listed: Any, console: Console) -> None:
    """The list as a table; the id column (the first) is never cut: the other columns fold, and on
    a terminal too narrow for them all, the last ones are left out (``--json`` has every column)."""
    from rich.table import Table

    items = [{c: safe_text(str(item.get(c, ""))) for c in listed.columns} for item in listed.items]
    id_width = max([len(listed.columns[0]), *(len(i[listed.columns[0]]) for i in items)])
    columns = list(listed.columns)
    while len(columns) > 2 and id_width + 12 * (len(columns) - 1) + 3 * len(columns) > console.width:
        columns.pop()  # keep room for at least 12 characters of each other column
    table = Table(title=f"JoggAI {listed.kind} ({len(items)})")
    table.add_column(columns[0], no_wrap=True, min_width=id_width)
    for name in columns[1:]:
        table.add_column(name, overflow="fold")
    for item in items:
        table.add_row(*(item[c] for c in columns))
    console.print(table)
    if len(columns) < len(listed.columns):
        left_out = ", ".join(listed.columns[len(columns) :])
        console.print(f"(not shown on a terminal this narrow: {left_out}; --json has them)", markup=False)


#: ``--schema`` (house rules for a product catalog) is not an option of the video sheet.
videos_command.params = [p for p in videos_command.params if p.name != "house_rules"]

COMMANDS: list[click.Command] = [videos_command, options_command]
