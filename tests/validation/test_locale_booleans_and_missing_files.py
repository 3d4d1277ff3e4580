# mypy: disable-error-code="attr-defined, func-returns-value"
"""Issue 9 items 8 (locale booleans, -p in any case) and 11 (a missing catalog is exit 1, not 2)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from catalog_sync.cli.main import cli
from catalog_sync.spec import load_spec
from catalog_sync.spec.normalise import normalise_value
from catalog_sync.validation import validate_catalog, validate_sheet
from tests.support.builders import SAMPLES

KEEVAULT, ROYALTI = load_spec("keevault"), load_spec("royalti")
WORDS = [
    ("WAHR", True),
    ("falsch", False),
    ("VRAI", True),
    ("Faux", False),
    ("verdadero", True),
    ("FALSO", False),
]


def test_german_french_spanish_booleans_are_valid_in_a_sample() -> None:
    report = validate_catalog(SAMPLES / "keevault" / "boolean_locale_ok.csv", "keevault")[2]
    assert report.flatten() == [] and report.valid


@pytest.mark.parametrize(("word", "truth"), WORDS)
def test_locale_booleans_validate_and_normalise_per_style(make_sheet, word: str, truth: bool) -> None:
    row = {"title": "t", "externalId": "E1", "reissue": word}
    assert validate_sheet(make_sheet([row]), ROYALTI).flatten() == []
    assert normalise_value(word, ROYALTI.field("reissue")) == ("true" if truth else "false")
    assert normalise_value(word, KEEVAULT.field("require_non_expired")) == ("1" if truth else "0")


def test_a_word_that_is_no_boolean_is_still_refused(make_sheet) -> None:
    report = validate_sheet(
        make_sheet([{"title": "t", "externalId": "E1", "reissue": "vielleicht"}]), ROYALTI
    )
    assert report.flatten() == [(2, "C2", "bad-format")]
    assert "WAHR/FALSCH" in report.problems[0].message


@pytest.mark.parametrize("spelling", ["Royalti", "ROYALTI", "royalti"])
def test_provider_ignores_case(spelling: str) -> None:
    result = CliRunner().invoke(
        cli, ["validate", str(SAMPLES / "royalti" / "catalog.csv"), "-p", spelling, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"valid": true' in result.output


def test_the_provider_reaching_the_command_is_lower_case(monkeypatch) -> None:
    import catalog_sync.cli.validate_view as validate_view

    seen = []
    real = validate_view.validate_catalog
    monkeypatch.setattr(
        validate_view, "validate_catalog", lambda path, p, **kw: seen.append(p) or real(path, p, **kw)
    )
    CliRunner().invoke(cli, ["validate", str(SAMPLES / "keevault" / "catalog.csv"), "-p", "KeeVault"])
    assert seen == ["keevault"]


def test_validate_of_a_missing_file_exits_1_naming_it(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "products.xlsx", "-p", "royalti"])
    assert result.exit_code == 1, result.output
    assert "products.xlsx" in result.output and "no such file" in result.output
    assert str(tmp_path) in result.output  # where it was looked for


def test_apply_of_a_missing_catalog_exits_1_naming_it(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["apply", "products.csv", "-p", "royalti", "--yes"])
    assert result.exit_code == 1, result.output
    assert "products.csv" in result.output and "no such file" in result.output


def test_plan_of_a_missing_catalog_exits_1_naming_it(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["plan", "products.csv", "-p", "royalti"])
    assert result.exit_code == 1, result.output
    assert "products.csv" in result.output and "no such file" in result.output
