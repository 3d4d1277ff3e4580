"""Meta tests: every command has help with an example and is documented in the README."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from catalog_sync.cli.main import cli
from catalog_sync.problems import CODES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.list_commands(click.Context(cli)))


@pytest.mark.parametrize("name", COMMANDS)
def test_the_top_level_help_line_of_each_command_is_its_own(name: str) -> None:
    """`catalog-sync --help` lists commands without importing them: each line must be the command's."""
    from catalog_sync.cli.main import COMMANDS as LAZY

    command = cli.get_command(click.Context(cli), name)
    assert command is not None and LAZY[name][1] == command.get_short_help_str(limit=300)


def test_top_level_help_imports_no_heavy_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from catalog_sync.cli.main import cli; "
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = [m for m in ('pandas', 'pyarrow', 'pandera', 'requests', 'openpyxl') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", done.stdout


def test_the_commands_of_this_step_are_registered() -> None:
    assert {"validate", "template", "plan", "apply", "runs", "sandbox"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`catalog-sync {name} --help` shows no example"
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and len(command.help or "") > 40


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_documented_in_readme(name: str) -> None:
    assert f"catalog-sync {name}" in README or f"`{name}" in README


def test_readme_gives_the_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README


@pytest.mark.parametrize(
    "code", ["required", "not-in-enum", "bad-format", "duplicate-key", "upc-checksum", "excel-damage"]
)
def test_product_md_problem_codes_exist_and_are_documented(code: str) -> None:
    assert code in CODES
    assert f"`{code}`" in README


def test_unknown_option_is_usage_error_exit_2() -> None:
    result = CliRunner().invoke(cli, ["validate", "--no-such-option"])
    assert result.exit_code == 2


def test_error_messages_at_the_edge_are_redacted(monkeypatch) -> None:
    """Whatever an exception carries, a secret from the environment never reaches stderr."""
    import click

    from catalog_sync.errors import ConfigError

    secret = "RWAK_edge_secret_4242"
    monkeypatch.setenv("ROYALTI_API_KEY", secret)

    @click.command("boom-known")
    def boom_known() -> None:
        raise ConfigError(f"refused {secret}")

    @click.command("boom-unexpected")
    def boom_unexpected() -> None:
        raise ValueError(f"Invalid header value {secret}")

    cli.add_command(boom_known)
    cli.add_command(boom_unexpected)
    try:
        for name in ("boom-known", "boom-unexpected"):
            result = CliRunner().invoke(cli, [name])
            assert result.exit_code == 1
            assert secret not in result.output and "***" in result.output
    finally:
        cli.commands.pop("boom-known")
        cli.commands.pop("boom-unexpected")
