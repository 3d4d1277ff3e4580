"""Malformed or loosening house rules (--schema) are refused with one clear message, exit 1."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from catalog_sync.cli.main import cli
from catalog_sync.errors import ConfigError
from catalog_sync.spec import load_spec

BAD = [
    ("fields:\n  - name: title\n    max_length: abc\n", "max_length must be a whole number"),
    ('fields:\n  - name: title\n    pattern: "[unclosed"\n', "not a valid regular expression"),
    ("fields: 5\n", "fields must be a list"),
    ("rules:\n  - one_of_required: upc\n", "one_of_required needs a list of field names"),
    ("rules:\n  - one_of_required: [nope, upc]\n", "'nope', not a field"),
    ("rules: [5]\n", "unknown rule 5"),
    ('fields:\n  - name: title\n    required: "no"\n', "required must be true or false"),
    ("fields:\n  - name: type\n    values: 5\n", "values must be a non-empty list"),
    ("fields:\n  - name: title\n    min_length: -1\n", "min_length must be 0 or more"),
    ("fields:\n  - name: c_line_year\n    min: 2000\n    max: 1999\n", "min 2000 is above max 1999"),
    ("fields:\n  - name: title\n    type: integer\n", "cannot change type"),
    ("fields:\n  - name: title\n    max_length: 1000\n", "not set max_length 1000"),
    ("fields:\n  - name: title\n    required: false\n", "not set required: false"),
    ("fields:\n  - name: type\n    values: [Audio, Podcast]\n", "'Podcast' the provider does not take"),
    ("fields:\n  - name: c_line_year\n    max: 2200\n", "not set max 2200"),
    ("fields:\n  - name: upc\n    length: 13\n", "not set length 13"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_house_rules_are_a_config_error_naming_the_attribute(tmp_path, text: str, message: str) -> None:
    house = tmp_path / "house.yaml"
    house.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_spec("royalti", [house])


def test_bad_house_rule_through_the_cli_is_exit_1_without_a_traceback(tmp_path) -> None:
    house = tmp_path / "house.yaml"
    house.write_text('fields:\n  - name: title\n    pattern: "[unclosed"\n', encoding="utf-8")
    catalog = tmp_path / "c.csv"
    catalog.write_text("title,upc\nA,012345678905\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(catalog), "-p", "royalti", "--schema", str(house)])
    assert result.exit_code == 1
    assert "house.yaml: field 'title': pattern" in result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.output


def test_a_subset_of_enum_values_keeps_the_providers_spelling(tmp_path) -> None:
    house = tmp_path / "house.yaml"
    house.write_text("fields:\n  - name: type\n    values: [audio]\n  - name: title\n    max_length: 80\n")
    spec = load_spec("royalti", [house])
    assert spec.field("type").values == ("Audio",) and spec.field("title").max_length == 80


def test_updatable_comes_from_the_provider_schema_and_house_rules_cannot_change_it(tmp_path) -> None:
    from catalog_sync.errors import ConfigError
    from catalog_sync.spec import load_spec

    jogg = load_spec("jogg")
    assert [f.name for f in jogg.fields if not f.updatable] == ["url"]  # PUT /v2/product takes no url
    assert all(f.updatable for f in load_spec("royalti").fields)
    house = tmp_path / "house.yaml"
    house.write_text("fields:\n  - name: url\n    updatable: true\n", encoding="utf-8")
    import pytest

    with pytest.raises(ConfigError, match="cannot change updatable"):
        load_spec("jogg", [house])
