"""The out-of-core engine gives the problems of the in-memory path, exactly, in bounded memory."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from catalog_sync.cli.main import cli
from catalog_sync.cli.validate_view import write_json
from catalog_sync.engine import choose_engine, settings
from catalog_sync.engine.validate import validate_on_disk
from catalog_sync.sheets import limits
from catalog_sync.spec import load_spec
from tests.support.big_catalog import damaged_catalog

_CODES = {
    "bad-format",
    "not-in-enum",
    "required",
    "too-long",
    "excel-damage",
    "duplicate-key",
    "control-character",
    "no-key",
    "lost-characters",
    "local-date-format",
    "unknown-column",
    "empty-header",
    "cell-too-large",
    "upc-checksum",
}


def _json(path: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", str(path), "-p", "royalti", "--json", *options])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout


def _same_json_from_both_engines(path: Path, *options: str) -> dict[str, object]:
    memory = _json(path, "--engine", "memory", *options)
    disk = _json(path, "--engine", "disk", *options)
    assert disk == memory
    document: dict[str, object] = json.loads(memory[1])
    return document


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return damaged_catalog(tmp_path_factory.mktemp("engine") / "catalog.csv", 200_000)


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return damaged_catalog(tmp_path_factory.mktemp("engine") / "catalog.csv", 20_000)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Blocks of 4 MB (about 30,000 rows: 7 chunks for 200,000 rows) and the work directory in tmp_path."""
    monkeypatch.setattr(settings, "BLOCK_BYTES", 4 * 1024**2)
    monkeypatch.setattr(settings, "TEMP_DIR", str(tmp_path))
    return tmp_path


def test_validate_json_of_the_disk_engine_is_the_memory_engines_on_200k_rows(catalog, small_blocks) -> None:
    document = _same_json_from_both_engines(catalog)
    problems = document["problems"]
    assert isinstance(problems, list)
    assert {p["code"] for p in problems} == _CODES  # a problem of every kind, across many chunks
    assert document["valid"] is False
    assert not [p for p in small_blocks.iterdir() if p.name.startswith("catalog-sync-engine-")]


def test_strict_and_date_format_give_the_same_json_on_both_engines(small_catalog, monkeypatch) -> None:
    monkeypatch.setattr(settings, "BLOCK_BYTES", 512 * 1024)  # 4 chunks
    catalog = small_catalog
    strict = _same_json_from_both_engines(catalog, "--strict")
    assert {p["severity"] for p in strict["problems"]} == {"error"}  # type: ignore[attr-defined]
    read = _same_json_from_both_engines(catalog, "--date-format", "MM/DD/YYYY")
    assert "local-date-format" not in {p["code"] for p in read["problems"]}  # type: ignore[attr-defined]


def test_a_tiny_duckdb_memory_limit_spills_to_disk_and_changes_nothing(tmp_path, monkeypatch) -> None:
    path = damaged_catalog(tmp_path / "catalog.csv", 50_000)
    _code, memory = _json(path, "--engine", "memory")
    monkeypatch.setattr(settings, "MEMORY_LIMIT_BYTES", 8 * 1024**2)
    monkeypatch.setattr(settings, "THREADS", 1)
    monkeypatch.setattr(settings, "BLOCK_BYTES", 1024**2)
    run = validate_on_disk(path, load_spec("royalti"))
    assert run.spilled_bytes > 0  # DuckDB wrote to its temp directory: the duplicate search spilled
    assert run.chunks > 1
    disk = io.StringIO()
    write_json(run.report, disk)
    assert disk.getvalue() == memory


def test_a_duckdb_memory_limit_too_small_to_work_is_a_clear_refusal(small_catalog, monkeypatch) -> None:
    monkeypatch.setattr(settings, "MEMORY_LIMIT_BYTES", 1024**2)
    result = CliRunner().invoke(cli, ["validate", str(small_catalog), "-p", "royalti", "--engine", "disk"])
    assert result.exit_code == 1
    assert "MEMORY_LIMIT_BYTES" in result.output and "Traceback" not in result.output


def test_auto_takes_the_disk_engine_where_memory_would_refuse_the_file(tmp_path, monkeypatch) -> None:
    path = damaged_catalog(tmp_path / "catalog.csv", 2_000)
    memory = _json(path, "--engine", "memory")
    monkeypatch.setattr(limits, "MEMORY_BUDGET_BYTES", 1024)
    assert choose_engine(path) == "disk"
    assert _json(path) == memory  # --engine auto, the default
    code, _out = _json(path, "--engine", "memory")
    assert code == 1  # the in-memory engine still refuses it


def test_a_workbook_stays_in_memory(tmp_path) -> None:
    import pandas as pd

    from catalog_sync.sheets import write_xlsx

    path = tmp_path / "catalog.xlsx"
    write_xlsx(pd.DataFrame({"upc": ["012345678905"], "title": ["A"]}), path)
    assert choose_engine(path) == "memory"
    result = CliRunner().invoke(cli, ["validate", str(path), "-p", "royalti", "--engine", "disk"])
    assert result.exit_code == 1 and "reads CSV catalogs" in result.output


def test_options_that_write_the_whole_catalog_are_refused_by_the_disk_engine(tmp_path) -> None:
    path = damaged_catalog(tmp_path / "catalog.csv", 100)
    fixed = tmp_path / "fixed.csv"
    result = CliRunner().invoke(
        cli, ["validate", str(path), "-p", "royalti", "--engine", "disk", "--fix", "-o", str(fixed)]
    )
    assert result.exit_code == 2 and "--fix not yet with the out-of-core engine" in result.output
    assert not fixed.exists()


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx"])
def test_the_problem_report_of_the_disk_engine_is_the_in_memory_one(
    small_catalog, small_blocks, tmp_path, suffix, monkeypatch
) -> None:
    monkeypatch.setattr(settings, "BLOCK_BYTES", 512 * 1024)  # several chunks
    files = {}
    for engine in ("memory", "disk"):
        files[engine] = tmp_path / f"{engine}{suffix}"
        args = [
            "validate",
            str(small_catalog),
            "-p",
            "royalti",
            "--engine",
            engine,
            "--report",
            str(files[engine]),
        ]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 3, result.output  # invalid; the report written all the same
    if suffix == ".xlsx":
        memory, disk = (CalamineWorkbook.from_path(str(files[e])) for e in ("memory", "disk"))
        for name in memory.sheet_names:
            assert disk.get_sheet_by_name(name).to_python() == memory.get_sheet_by_name(name).to_python()
    else:
        assert files["disk"].read_bytes() == files["memory"].read_bytes()
    if suffix == ".json":
        document = json.loads(files["disk"].read_text(encoding="utf-8"))
        assert document["valid"] is False and len(document["problems"]) > 10


def test_a_ragged_csv_is_refused_by_the_disk_engine_with_a_reason(tmp_path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("upc,title\n012345678905,A\n036000291452,B,extra\n")
    result = CliRunner().invoke(cli, ["validate", str(path), "-p", "royalti", "--engine", "disk"])
    assert result.exit_code == 1
    assert "as many cells as the first" in result.output


def test_the_terminal_view_lists_the_first_problems_and_counts_the_rest(small_catalog, small_blocks) -> None:
    catalog = small_catalog
    memory = CliRunner().invoke(cli, ["validate", str(catalog), "-p", "royalti", "--engine", "memory"])
    disk = CliRunner().invoke(cli, ["validate", str(catalog), "-p", "royalti", "--engine", "disk"])
    assert disk.exit_code == memory.exit_code == 3
    assert disk.output == memory.output


def test_validate_json_of_the_disk_engine_is_the_memory_engines_on_1m_rows(tmp_path) -> None:
    path = damaged_catalog(tmp_path / "catalog.csv", 1_000_000)
    document = _same_json_from_both_engines(path)
    assert {p["code"] for p in document["problems"]} == _CODES  # type: ignore[attr-defined]


def _rows(count: int, start: int = 0) -> list[str]:
    import numpy as np
    from bench.generate import gtin12

    upcs = gtin12(np.arange(start, start + count) + 10**9)
    return [f"{upc};Titel {n} Café;Die Stromer;EXT-{n}" for n, upc in enumerate(upcs.tolist())]


_ODD_FILES = {
    "cp1252, sep= line, semicolons": (
        ["sep=;", "upc;title;displayArtist;externalId", *_rows(3000), "012345678905;dup;x;EXT-7"],
        "cp1252",
    ),
    "title rows and blank lines above the header": (
        ["Catalog export 2024;;;", "", "", "upc;title;displayArtist;externalId", *_rows(3000), "", ""],
        "utf-8",
    ),
    "a header and no rows": (["upc;title;displayArtist;externalId"], "utf-8"),
    "blank lines between the rows": (
        ["upc;title;displayArtist;externalId", *_rows(1500), "", ";;;", *_rows(1500, 1500)],
        "utf-8",
    ),
}


@pytest.mark.parametrize("case", list(_ODD_FILES))
def test_odd_csvs_give_the_same_json_on_both_engines_in_tiny_chunks(case, tmp_path, monkeypatch) -> None:
    lines, encoding = _ODD_FILES[case]
    path = tmp_path / "catalog.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    monkeypatch.setattr(settings, "BLOCK_BYTES", 16384)  # a header found over blocks, many chunks
    _same_json_from_both_engines(path)


def test_a_cap_on_cells_with_values_refuses_the_same_line_on_both_engines(small_catalog, monkeypatch) -> None:
    monkeypatch.setattr(limits, "MAX_FILLED_CELLS", 150_000)  # a deployment's cap, reached in a late chunk
    monkeypatch.setattr(settings, "BLOCK_BYTES", 512 * 1024)
    memory = CliRunner().invoke(cli, ["validate", str(small_catalog), "-p", "royalti", "--engine", "memory"])
    disk = CliRunner().invoke(cli, ["validate", str(small_catalog), "-p", "royalti", "--engine", "disk"])
    assert disk.exit_code == memory.exit_code == 1
    assert "more than 150,000 cells with values (at line" in disk.output
    assert disk.output == memory.output
