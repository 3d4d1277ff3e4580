"""A provider is one folder: a folder that lacks a piece is named, piece by piece, before any
contract test runs against it (``providers.folders.missing_pieces``)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from catalog_sync.providers.folders import missing_pieces
from catalog_sync.providers.registry import FOLDERS, NAMES, PROVIDERS


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_provider_folder_is_whole(folder: str) -> None:
    assert missing_pieces(f"catalog_sync.providers.{folder}") == []


def test_the_registry_is_its_folders() -> None:
    assert set(NAMES) == set(FOLDERS) == set(PROVIDERS)
    assert all(PROVIDERS[name].name == name for name in NAMES)


@pytest.fixture
def copy_of_royalti(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the royalti folder as a top-level package ``royalti`` (INFO and all) to break."""
    source = Path(str(resources.files("catalog_sync.providers.royalti")))
    folder = tmp_path / "royalti"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for module in folder.glob("*.py"):
        module.write_text(module.read_text().replace("catalog_sync.providers.royalti.", "royalti."))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield folder
    for name in [m for m in sys.modules if m == "royalti" or m.startswith("royalti.")]:
        del sys.modules[name]


def test_a_whole_copy_of_a_folder_passes(copy_of_royalti: Path) -> None:
    assert missing_pieces("royalti") == []


@pytest.mark.parametrize(
    ("piece", "named"),
    [
        ("client.py", "client: royalti.client:RoyaltiProvider cannot be loaded"),
        ("emulator.py", "emulator: royalti.emulator:RoyaltiEmulator cannot be loaded"),
        ("schema.yaml", "schema: royalti/schema.yaml is missing"),
        ("contract.py", "contract: royalti.contract:CONTRACT cannot be loaded"),
    ],
)
def test_a_folder_missing_a_piece_is_refused_naming_it(copy_of_royalti: Path, piece: str, named: str) -> None:
    (copy_of_royalti / piece).unlink()
    problems = missing_pieces("royalti")
    assert len(problems) == 1 and problems[0].startswith(named), problems


def test_a_broken_openapi_document_is_named(copy_of_royalti: Path) -> None:
    (copy_of_royalti / "openapi" / "royalti-update-product.yaml").write_text("paths: {}\n")
    assert missing_pieces("royalti") == [
        "openapi: royalti/openapi/royalti-update-product.yaml is not an OpenAPI document"
    ]


def test_info_that_names_another_provider_is_refused(copy_of_royalti: Path) -> None:
    init = copy_of_royalti / "__init__.py"
    init.write_text(init.read_text().replace('name="royalti"', 'name="royalty"'))
    assert missing_pieces("royalti") == [
        "INFO: named 'royalty', not 'royalti' like its folder",
        "schema: royalti/schema.yaml is for 'royalti', not 'royalty'",
    ]


def test_a_folder_without_info_is_refused(copy_of_royalti: Path) -> None:
    (copy_of_royalti / "__init__.py").write_text('"""no INFO"""\n')
    assert missing_pieces("royalti") == ["INFO: royalti/__init__.py must define INFO, a ProviderInfo"]
