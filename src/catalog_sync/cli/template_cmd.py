"""``catalog-sync template``: an empty xlsx catalog with the provider's columns."""

from __future__ import annotations

from pathlib import Path

import click

from catalog_sync.errors import ConfigError

from .options import provider_option

#: ``--kind``: the product catalog, or (JoggAI) the video sheet.
KINDS = ("products", "videos")


def _xlsx_path(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    path = Path(value)
    if path.suffix.lower() != ".xlsx":
        raise click.BadParameter("the template must be an .xlsx file", ctx=ctx, param=param)
    return path


@click.command("template")
@provider_option
@click.option(
    "-o",
    "--output",
    required=True,
    callback=_xlsx_path,
    metavar="FILE.xlsx",
    help="Where to write the template (.xlsx).",
)
@click.option("--force", is_flag=True, help="Overwrite FILE.xlsx if it exists.")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="products",
    show_default=True,
    help="products: the product catalog; videos (jogg only): the sheet `catalog-sync videos` reads.",
)
def template_command(provider: str, output: Path, force: bool, kind: str) -> None:
    """Write an empty catalog for the provider as an xlsx workbook.

    The header row holds the provider's field names in order (bold, frozen), every
    column is formatted as Text so leading zeros and long ids survive, enumerations and
    booleans have dropdowns, and each header has a note with the field's description,
    rules and an example. `--kind videos` writes JoggAI's video sheet instead.

    \b
    Example:
      catalog-sync template -p royalti -o products.xlsx
      catalog-sync validate products.xlsx -p royalti
      catalog-sync template -p jogg --kind videos -o videos.xlsx
    """
    from catalog_sync.sheets.write.template import write_template
    from catalog_sync.spec import load_spec

    if kind == "videos" and provider != "jogg":
        raise click.UsageError(f"--kind videos is JoggAI's video sheet (-p jogg), not {provider}'s")
    if output.exists() and not force:
        raise click.UsageError(f"{output} exists; pass --force to overwrite it")
    spec = load_spec("jogg-videos" if kind == "videos" else provider)
    try:
        write_template(spec, output)
    except OSError as exc:
        raise ConfigError(f"cannot write the template {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {output}: {len(spec.fields)} {spec.provider} columns ({', '.join(spec.field_names)}).")


COMMANDS: list[click.Command] = [template_command]
