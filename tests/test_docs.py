"""Meta tests: every command has help with an example and is documented (README and docs/), the
problem and exit codes are documented, and the generated references in docs/ are not stale."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from catalog_sync.cli.main import cli
from catalog_sync.problems import CODES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"
PROBLEM_CODES_PAGE = (DOCS / "reference" / "problem-codes.md").read_text(encoding="utf-8")
EXIT_CODES_PAGE = (DOCS / "reference" / "exit-codes.md").read_text(encoding="utf-8")
#: The pages cog writes from catalog_sync.cli.docgen, and the command that rewrites them.
GENERATED = ("docs/reference/cli.md", "docs/reference/config.md")
REGENERATE = "cog -r -I src " + " ".join(GENERATED)
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
    assert f"`{code}`" in PROBLEM_CODES_PAGE


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_problem_code_is_documented(code: str) -> None:
    """Each code of catalog_sync.problems.CODES has its row in docs/reference/problem-codes.md."""
    assert f"| `{code}` |" in PROBLEM_CODES_PAGE, f"add `{code}` to docs/reference/problem-codes.md"


def _exit_codes_the_code_defines() -> set[int]:
    import catalog_sync.errors as errors

    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.CatalogSyncError)
    ]
    # 2: click's usage errors; 130: Ctrl+C (cli.main); 143: SIGTERM (errors.Terminated).
    return {cls.exit_code for cls in classes} | {2, 130, 143}


@pytest.mark.parametrize("code", sorted(_exit_codes_the_code_defines()))
def test_every_exit_code_is_documented(code: int) -> None:
    assert f"\n| {code} |" in EXIT_CODES_PAGE, f"add exit code {code} to docs/reference/exit-codes.md"


@pytest.mark.parametrize("page", GENERATED)
def test_generated_references_are_up_to_date(page: str) -> None:
    """The CLI and catalog-sync.toml references are what docgen renders from the code now."""
    import difflib
    import sys

    from cogapp import Cog

    path = ROOT / page
    text = path.read_text(encoding="utf-8")
    cog = Cog()
    cog.options.include_path = [str(ROOT / "src")]
    sys.path.insert(0, str(ROOT / "src"))
    try:
        now = cog.process_string(text, str(path))
    finally:
        sys.path.remove(str(ROOT / "src"))
    diff = "".join(
        difflib.unified_diff(text.splitlines(True), now.splitlines(True), page, "generated now", n=1)
    )
    assert now == text, (
        f"{page} is stale: run `{REGENERATE}` from the repository root and commit the result\n{diff}"
    )


def test_every_config_key_is_described() -> None:
    from catalog_sync.cli.docgen import undocumented_config_keys

    assert undocumented_config_keys() == [], (
        "catalog-sync.toml keys without a description (or described but no longer accepted): "
        "update CONFIG_KEY_DOCS in src/catalog_sync/cli/docgen.py, then run " + REGENERATE
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_the_cli_reference(name: str) -> None:
    assert f"## `catalog-sync {name}`" in (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")


def test_readme_stays_short_and_points_into_docs() -> None:
    lines = README.count("\n")
    assert lines <= 200, f"README.md has {lines} lines: move the detail into docs/"
    for page in ("docs/tutorial.md", "docs/reference/cli.md", "docs/safety.md", "bench/RESULTS.md"):
        assert f"]({page}" in README, f"README.md does not link to {page}"


def test_docs_need_nothing_outside_the_repository() -> None:
    """The site builds from the repository alone: no page points into ../shared."""
    for page in DOCS.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "/work/shared" not in text, page


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
