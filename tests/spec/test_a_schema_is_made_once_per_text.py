"""A run asks for its provider's spec several times (14 ms each to make): the spec is made once from
the same files, and a schema or house-rules file edited since is read as it is now."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import catalog_sync.spec.model as model
from catalog_sync.errors import ConfigError
from catalog_sync.spec import load_spec


def _rules(path: Path, max_length: int) -> Path:
    path.write_text(
        f"provider: royalti\nfields:\n  - name: title\n    max_length: {max_length}\n", encoding="utf-8"
    )
    return path


def test_the_same_files_give_the_same_spec_made_once(tmp_path: Path) -> None:
    rules = _rules(tmp_path / "house.yaml", 50)
    assert load_spec("royalti") is load_spec("royalti")
    assert load_spec("royalti", [rules]) is load_spec("royalti", (rules,))
    assert load_spec("royalti", [rules]) is not load_spec("royalti")


def test_a_house_rules_file_edited_since_is_read_again_even_at_the_same_size_and_time(tmp_path: Path) -> None:
    rules = _rules(tmp_path / "house.yaml", 50)
    assert load_spec("royalti", [rules]).field("title").max_length == 50
    stamp = rules.stat()
    _rules(rules, 40)  # as long as before, and given back its time: only the text tells
    os.utime(rules, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert load_spec("royalti", [rules]).field("title").max_length == 40


def test_an_edited_provider_schema_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own, shown = model.schema_file("royalti")
    copy = tmp_path / "schema.yaml"
    copy.write_text(own.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(model, "schema_file", lambda name: (copy, shown))
    first = load_spec("royalti")
    copy.write_text(
        copy.read_text(encoding="utf-8").replace("title: Royalti.io products", "title: Royalti products"),
        encoding="utf-8",
    )
    assert first.title == "Royalti.io products"
    assert load_spec("royalti").title == "Royalti products"


def test_a_house_rules_file_that_cannot_be_read_is_refused_every_time(tmp_path: Path) -> None:
    rules = _rules(tmp_path / "house.yaml", 50)
    load_spec("royalti", [rules])
    rules.unlink()
    for _ in range(2):
        with pytest.raises(ConfigError, match="cannot read schema file"):
            load_spec("royalti", [rules])
