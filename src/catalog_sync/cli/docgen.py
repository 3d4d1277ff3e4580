"""The generated parts of docs/: the CLI reference and the ``catalog-sync.toml`` reference.

Used by cog (``cog -r -I src docs/reference/cli.md docs/reference/config.md``) and by
tests/test_docs.py, which fails when a checked-in page differs from what these functions render
now.  Never imported by the CLI itself, so it may import every command module.

Output is deterministic: commands in the order ``catalog-sync --help`` lists them, options in
declaration order, help wrapped at a fixed width whatever the terminal.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

__all__ = [
    "CONFIG_KEY_DOCS",
    "cli_reference",
    "config_key_names",
    "config_reference",
    "undocumented_config_keys",
]

#: Width the help of every command is wrapped at (the CLI's own ``max_content_width``).
WIDTH = 100

#: What each ``catalog-sync.toml`` key means, by section.  The key *names* come from the code
#: (catalog_sync.config.jobs); a key the code accepts with no line here makes
#: :func:`config_reference` fail, so a new key cannot ship undocumented.
CONFIG_KEY_DOCS: dict[str, dict[str, str]] = {
    "top": {
        "credentials": "A credentials file for every job (see [Credentials files](#credentials-files)); "
        "`[defaults]` and each job may name their own.",
        "defaults": "A table of job keys applied to every job; a job's own value wins.",
        "jobs": "One table `[jobs.NAME]` per job. Job names hold letters, digits, `_`, `.` and `-` "
        "(the name is part of its report files' names).",
        "alerts": "Where and when to send alerts (optional).",
        "providers": "One table `[providers.NAME]` per provider; it may only set `base_url`. "
        "Credentials never go here.",
    },
    "job": {
        "provider": "The provider: its API and schema. Required.",
        "catalog": "The catalog file (CSV, XLSX/XLSM, XLS, ODS). Required.",
        "sheet": "The worksheet to read (`--sheet`).",
        "mapping": "A mapping of your headers onto the provider's fields (`--mapping`).",
        "date_format": "Dates written the local way (`MM/DD/YYYY`, `DD/MM/YYYY`, `DD.MM.YYYY`, `YYYY/MM/DD`; "
        "`7/4/2024` too) are read as YYYY-MM-DD dates (`--date-format`).",
        "mode": "What the run may do (`--mode`): mirror also deletes remote records no row matches.",
        "schema": "House-rules files (`--schema`; a name or a list): tighter field rules, a field's "
        "`prefer` and write `policy`, and `protect` rules for records never updated nor deleted.",
        "prefer": "How a conflict between an edit of a pulled sheet and a remote edit of the same cell is "
        "settled (`--prefer`): `sheet` sends the sheet's value, `remote` keeps the remote's. Unset: "
        "such rows are conflicts and nothing of them is sent.",
        "engine": "Which engine reads and plans the catalog (`--engine`): `memory` reads it whole, `disk` "
        "is the out-of-core engine (a CSV past memory, checked and planned chunk by chunk, the same plan); "
        "`auto` takes `disk` for a CSV too big for memory.",
        "blanks": "What an empty cell means (`--blanks`): `keep` changes nothing, `clear` clears "
        "the remote field (never a key column; a field the provider's API cannot clear is refused, exit 3).",
        "max_deletes": "A plan deleting more records than this stops the job (exit 6) before "
        "anything is sent (`--max-deletes`).",
        "max_failures": "Stop after this many failed rows (exit 6); the rest are reported "
        "`skipped` (`--max-failures`).",
        "rate": "Requests per second: where the pace starts, and a ceiling it never passes (`--rate`).",
        "concurrency": "Requests in parallel (`--concurrency`).",
        "report_format": "The format of each run's report; `html` is the page to review (not read back by `--only failed --from`).",
        "state": "The state database (`--state`).",
        "reports": "The folder each run's timestamped report is written to: "
        "`<reports>/<job>-<UTC time>.<format>`.",
        "keep_reports": "How many reports of each job are kept; older ones are removed.",
        "credentials": "A credentials file for this job (wins over `[defaults]` and the top level).",
        "base_url": "The provider's base URL (else `<PROVIDER>_BASE_URL`, else the provider's public API).",
    },
    "alerts": {
        "urls": "Apprise URLs to send alerts to (a list; one string is taken as a list of one).",
        "on": "The outcomes that send an alert; needs at least one URL in `urls`.",
    },
    "provider": {
        "base_url": "The provider's base URL for every job of that provider.",
    },
}

#: Defaults the loader computes (no dataclass default), in words.
_COMPUTED_DEFAULTS = {
    "state": "`.catalog-sync/state.db` (next to the config file)",
    "reports": "`reports` (next to the config file)",
    "max_failures": "no limit",
    "rate": "the provider's safe rate, adapting",
    "concurrency": "the provider's default",
    "sheet": "the only sheet with data",
    "date_format": "YYYY-MM-DD dates only",
    "base_url": "`<PROVIDER>_BASE_URL` or the public API",
}


# ------------------------------------------------------------------------------------------ CLI
def cli_reference() -> str:
    """Markdown for every command of ``catalog-sync``: usage, help text, arguments and options."""
    from catalog_sync.cli.main import cli

    root = _context(cli, "catalog-sync", None)
    parts = [_command_section(cli, root, "catalog-sync", level=2)]
    assert isinstance(cli, click.Group)
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        if command is None:  # pragma: no cover - every listed command loads
            raise RuntimeError(f"catalog-sync {name} is listed but cannot be loaded")
        parts.append(_walk(command, root, name, level=2))
    return "\n".join(parts)


def _walk(command: click.Command, parent: click.Context, name: str, level: int) -> str:
    ctx = _context(command, name, parent)
    parts = [_command_section(command, ctx, ctx.command_path, level)]
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            subcommand = command.get_command(ctx, sub)
            if subcommand is not None:
                parts.append(_walk(subcommand, ctx, sub, level + 1))
    return "\n".join(parts)


def _context(command: click.Command, name: str, parent: click.Context | None) -> click.Context:
    """A context as the CLI makes it (the command's ``context_settings``, e.g. ``-h``), at a fixed width."""
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    return click.Context(command, parent=parent, info_name=name, **settings)


def _command_section(command: click.Command, ctx: click.Context, path: str, level: int) -> str:
    lines = [f"{'#' * level} `{path}`", ""]
    short = command.get_short_help_str(limit=300)
    if short:
        lines += [short, ""]
    lines += ["```text", _usage(command, ctx), "```", ""]
    help_text = _help_body(command, ctx)
    if help_text:
        lines += ["```text", help_text, "```", ""]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    if arguments:
        lines += ["| argument | required | repeatable |", "| --- | --- | --- |"]
        for argument in arguments:
            lines.append(
                f"| `{argument.make_metavar(ctx)}` | {_yes(argument.required)} | {_yes(argument.nargs == -1)} |"
            )
        lines.append("")
    options = [
        record
        for param in _params(command, ctx)
        if isinstance(param, click.Option) and (record := param.get_help_record(ctx)) is not None
    ]
    if options:
        lines += ["| option | what it does |", "| --- | --- |"]
        for opts, text in options:
            lines.append(f"| `{_code(opts)}` | {_cell(text)} |")
        lines.append("")
    return "\n".join(lines)


def _params(command: click.Command, ctx: click.Context) -> list[click.Parameter]:
    """The command's parameters and a help option made for ``ctx`` (click caches the help option of
    the first context that asked, so a test that invoked a command alone would change the page)."""
    names = [n for n in ctx.help_option_names if n not in {o for p in command.params for o in p.opts}]
    help_option = click.Option(names, is_flag=True, expose_value=False, help="Show this message and exit.")
    return [*command.params, *([help_option] if names and command.add_help_option else [])]


def _usage(command: click.Command, ctx: click.Context) -> str:
    formatter = ctx.make_formatter()
    command.format_usage(ctx, formatter)
    return formatter.getvalue().rstrip()


def _help_body(command: click.Command, ctx: click.Context) -> str:
    """The command's help text as ``--help`` shows it (wrapping, ``\\b`` blocks), first line dropped."""
    formatter = ctx.make_formatter()
    command.format_help_text(ctx, formatter)
    text = inspect.cleandoc(formatter.getvalue())
    first, _, rest = text.partition("\n\n")
    return rest.strip("\n") if first.strip() == command.get_short_help_str(limit=300).strip() else text


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _code(text: str) -> str:
    return " ".join(text.split()).replace("`", "'")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# --------------------------------------------------------------------------- catalog-sync.toml
def config_key_names() -> dict[str, tuple[str, ...]]:
    """The keys ``catalog-sync.toml`` accepts, by section, as the loader declares them."""
    from catalog_sync.config import jobs as config

    return {
        "top": tuple(config._TOP_KEYS),
        "job": tuple(config.JOB_KEYS),
        "alerts": tuple(config._ALERT_KEYS),
        "provider": tuple(config._PROVIDER_KEYS),
    }


def undocumented_config_keys() -> list[str]:
    """``section.key`` for every key the code accepts that :data:`CONFIG_KEY_DOCS` does not describe,
    and every described key the code no longer accepts."""
    names = config_key_names()
    missing = [f"{s}.{k}" for s, keys in names.items() for k in keys if k not in CONFIG_KEY_DOCS.get(s, {})]
    stale = [f"{s}.{k}" for s, docs in CONFIG_KEY_DOCS.items() for k in docs if k not in names.get(s, ())]
    return missing + stale


def config_reference() -> str:
    """Markdown tables of every ``catalog-sync.toml`` key: where it goes, its values, default, meaning."""
    from catalog_sync.config import jobs as config

    wrong = undocumented_config_keys()
    if wrong:
        raise RuntimeError(
            "catalog-sync.toml keys out of step with catalog_sync.cli.docgen.CONFIG_KEY_DOCS: "
            + ", ".join(wrong)
            + " (describe each key the loader accepts, drop keys it no longer accepts)"
        )
    names = config_key_names()
    docs = CONFIG_KEY_DOCS
    defaults = {f.name: f.default for f in dataclasses.fields(config.JobConfig)}
    out: list[str] = []

    out += ["### Top level", "", "| key | what it holds |", "| --- | --- |"]
    out += [f"| `{key}` | {docs['top'][key]} |" for key in names["top"]]
    out.append("")

    out += [
        "### Job keys: `[jobs.NAME]` and `[defaults]`",
        "",
        "Every key may be set in `[defaults]` for all jobs; a job's own value wins. "
        "Relative paths (`"
        + "`, `".join(k for k in config._PATH_KEYS)
        + "`) are relative to the config file.",
        "",
        "| key | values | default | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for key in names["job"]:
        check = config.JOB_KEYS[key]
        default = defaults.get(key, dataclasses.MISSING)
        if key in ("provider", "catalog"):
            shown = "required"
        elif key in _COMPUTED_DEFAULTS:
            shown = _COMPUTED_DEFAULTS[key]
        elif default is dataclasses.MISSING or default is None:
            shown = "none"
        else:
            shown = f"`{default!r}`".replace("'", '"')
        values = _values(check, config)
        if key in config._PATH_KEYS:
            values = "path"
        out.append(f"| `{key}` | {values} | {shown} | {docs['job'][key]} |")
    out.append("")

    out += ["### `[alerts]`", "", "| key | values | what it does |", "| --- | --- | --- |"]
    for key in names["alerts"]:
        values = "list of Apprise URLs" if key == "urls" else _choices(config.ALERT_OUTCOMES)
        out.append(f"| `{key}` | {values} | {docs['alerts'][key]} |")
    out.append("")

    out += ["### `[providers.NAME]`", "", "| key | what it does |", "| --- | --- |"]
    out += [f"| `{key}` | {docs['provider'][key]} |" for key in names["provider"]]
    out.append("")
    from catalog_sync.providers.registry import NAMES

    out.append(f"`NAME` is one of {_choices(NAMES)}.")
    return "\n".join(out) + "\n"


def _values(check: Callable[..., Any], config: Any) -> str:
    """What a key's check accepts, read from the check itself."""
    if check is config._text:
        return "text"
    if check is config._texts:
        return "text, or a list of texts"
    if check is config._positive_number:
        return "number > 0"
    if check is config._report_format:
        return _choices(config.REPORT_FORMATS)
    if check is config._date_format:
        return _choices(config.DATE_FORMATS)
    free = dict(
        zip(check.__code__.co_freevars, (c.cell_contents for c in check.__closure__ or ()), strict=True)
    )
    if "options" in free:
        return _choices(free["options"])
    if "minimum" in free:
        return f"whole number ≥ {free['minimum']}"
    raise RuntimeError(f"docgen cannot describe the check {check!r}: teach catalog_sync.cli.docgen._values")


def _choices(options: Sequence[str] | Iterable[str]) -> str:
    return " \\| ".join(f"`{o}`" for o in options)
