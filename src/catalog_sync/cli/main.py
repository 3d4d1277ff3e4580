"""The ``catalog-sync`` command group: registers the commands and maps errors to exit codes.

Commands parse options, call the library, and render.  Every ``CatalogSyncError`` becomes
one ``Error: …`` line on stderr and the exit code the error class carries (docs/reference/exit-codes.md);
anything unexpected becomes exit 1 with a hint to re-run with ``--debug``.  Tracebacks are
shown only with ``--debug`` (or ``CATALOG_SYNC_DEBUG=1``).
"""

from __future__ import annotations

import functools
import gc
import importlib
import os
import sys
from typing import Any

import click

from catalog_sync import __version__
from catalog_sync.config.credentials import redact
from catalog_sync.errors import CatalogSyncError

#: Each command: the module that defines it, and the line ``catalog-sync --help`` shows for it.
#: A command's module (and what it imports: pandas, pandera, requests …) is imported only when
#: that command runs or shows its own help, so ``catalog-sync --help`` answers at once.
#: (tests/test_docs.py checks each line against the command's own help.)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("catalog_sync.cli.validate_cmd", "Check CATALOG against the provider's schema."),
    "template": (
        "catalog_sync.cli.template_cmd",
        "Write an empty catalog for the provider as an xlsx workbook.",
    ),
    "plan": (
        "catalog_sync.cli.plan_cmd",
        "Show what `apply` would do: create / update (old → new per field) / unchanged / delete / conflict.",
    ),
    "apply": (
        "catalog_sync.cli.apply_cmd",
        "Carry the plan out: send only the changes, record each row's outcome, write a report.",
    ),
    "pull": (
        "catalog_sync.cli.pull_cmd",
        "Export every record the provider holds as a catalog sheet `apply` takes back unchanged.",
    ),
    "videos": (
        "catalog_sync.cli.videos_cmd",
        "Create JoggAI product videos for the rows of a video sheet, and record each video id.",
    ),
    "options": (
        "catalog_sync.cli.videos_cmd",
        "List the avatar, voice, music or style ids a video sheet takes (every page of JoggAI's list), or the account's remaining credits.",
    ),
    "run": (
        "catalog_sync.cli.run_cmd",
        "Run the jobs of catalog-sync.toml (all of them, or the JOBs named), one after another.",
    ),
    "runs": (
        "catalog_sync.cli.runs_cmd",
        "List past runs (newest first), or the per-row outcomes of RUN_ID.",
    ),
    "undo": (
        "catalog_sync.cli.undo_cmd",
        "Build the inverse of an apply run as a plan: fields back to the values it replaced.",
    ),
    "sandbox": (
        "catalog_sync.cli.sandbox_cmd",
        "Serve a faithful local emulator of PROVIDER's API on 127.0.0.1.",
    ),
}


class ErrorMappingGroup(click.Group):
    """A click group that turns library errors into messages and exit codes, once, and loads each
    command's module only when the command is used (:data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(COMMANDS[cmd_name][0])
            for command in module.COMMANDS:
                self.add_command(loading_first(command, getattr(module, "LOADS", ())))
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_module, short) in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except CatalogSyncError as exc:
            if _debug(ctx):
                raise
            click.echo(f"Error: {redact(exc.message)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except BrokenPipeError:  # `catalog-sync runs | head -1`: the reader has what it wanted
            _stdout_to_devnull()
            ctx.exit(0)
        except Exception as exc:
            if _debug(ctx):
                raise
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {redact(exc)} (re-run with --debug for details)",
                err=True,
            )
            ctx.exit(1)


def loading_first(command: click.Command, modules: tuple[str, ...]) -> click.Command:
    """``command``, whose run first loads ``modules`` (its module's ``LOADS``: the library and the
    renderers it imports when it runs) by :func:`load_paused`.  Parsing and ``--help`` load none."""
    callback = command.callback
    if callback is None or not modules:
        return command

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        load_paused(modules)
        return callback(*args, **kwargs)

    command.callback = run
    return command


def load_paused(modules: tuple[str, ...]) -> None:
    """Import ``modules`` with the cyclic garbage collector paused, then freeze what is loaded.

    Loading pandas, pyarrow and pandera leaves ~150,000 objects the collector tracks, all living as
    long as the process: the collector ran some 280 times while they loaded (0.2–0.3 s of the
    1.5 s of CPU a command spends starting), and each later full collection walked them again.
    Frozen, they are left out of every collection of the run, and of the one at exit.  Objects the
    run makes are collected as usual.  Once the modules are loaded (a second command in the same
    process: click's test runner) nothing is done; the garbage of what ran before is collected
    first (a small heap at start-up), so only what is loaded is frozen.
    """
    if all(name in sys.modules for name in modules):
        return
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool((root.params or {}).get("debug")) or os.environ.get("CATALOG_SYNC_DEBUG") == "1"


@click.group(
    cls=ErrorMappingGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="catalog-sync")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line error messages.")
def cli(debug: bool) -> None:
    """Keep spreadsheet product catalogs in step with providers' product APIs.

    \b
    Typical loop:
      catalog-sync validate products.xlsx -p royalti
      catalog-sync plan products.xlsx -p royalti -o plan.json
      catalog-sync apply plan.json -p royalti --report report.xlsx

    Exit codes: 0 ok, 1 could not run, 2 usage, 3 invalid catalog, 4 some rows failed,
    5 state locked, 6 a limit stopped the run, 7 changes pending (plan --detailed-exitcode).
    """


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so the output still buffered is dropped quietly at exit (the
    reader of a pipe went away: Python would otherwise print a BrokenPipeError)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="catalog-sync", standalone_mode=True)
    except BrokenPipeError:  # raised while flushing, outside a command
        _stdout_to_devnull()
        sys.exit(0)
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _stdout_to_devnull()
        exit_without_collecting()


def exit_without_collecting() -> None:
    """Let the interpreter exit without collecting the heap: ``gc.freeze()`` once the command is done.

    Tearing down what pandas, pyarrow and pandera leave in memory took 0.5–0.9 s of every run
    (the collection at interpreter exit walks the whole heap).  Frozen objects are not collected,
    so the exit is short.  Nothing is lost: the command has returned (or raised) by now, so every
    report and plan it wrote is closed (written atomically, in ``with`` blocks), the ledger is
    closed, and stdout is flushed just above; ``atexit`` handlers, ``weakref.finalize`` (temporary
    folders) and the standard streams' flush still run, and the exit code is the one the command
    gave.  (Python does not promise finalizers of objects still alive at exit in any case.)
    Only this console entry point does it: a library caller's process keeps collecting as usual.
    """
    gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
