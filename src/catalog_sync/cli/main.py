"""The ``catalog-sync`` command group: registers the commands and maps errors to exit codes.

Commands parse options, call the library, and render.  Every ``CatalogSyncError`` becomes
one ``Error: …`` line on stderr and the exit code the error class carries (PRODUCT.md);
anything unexpected becomes exit 1 with a hint to re-run with ``--debug``.  Tracebacks are
shown only with ``--debug`` (or ``CATALOG_SYNC_DEBUG=1``).
"""

from __future__ import annotations

import os
from typing import Any

import click

from catalog_sync import __version__
from catalog_sync.config import redact
from catalog_sync.errors import CatalogSyncError


class ErrorMappingGroup(click.Group):
    """A click group that turns library errors into messages and exit codes, once."""

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
        except Exception as exc:
            if _debug(ctx):
                raise
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {redact(exc)} (re-run with --debug for details)",
                err=True,
            )
            ctx.exit(1)


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


def _register() -> None:
    # Explicit registration: one module per command group.
    from catalog_sync.cli import (
        apply_cmd,
        plan_cmd,
        pull_cmd,
        run_cmd,
        runs_cmd,
        sandbox_cmd,
        template_cmd,
        validate_cmd,
    )

    for module in (validate_cmd, template_cmd, plan_cmd, apply_cmd, pull_cmd, run_cmd, runs_cmd, sandbox_cmd):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="catalog-sync")


if __name__ == "__main__":  # pragma: no cover
    main()
