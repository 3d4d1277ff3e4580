# mypy: disable-error-code="attr-defined"
"""The columnar CSV reader (pyarrow) gives the same Sheet as the exact row-by-row reader.

Each file is read twice: once with the exact reader switched off (so the columnar reader must take
it) and once with the columnar reader switched off; data, row numbers, problems and headers must
agree.  Files pyarrow cannot take (ragged rows, a quote never closed) must still be read exactly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from catalog_sync.cli.main import cli
from catalog_sync.errors import InputError
from catalog_sync.sheets import columnar, limits, load_sheet, loader
from catalog_sync.validation import validate_catalog

FIELDS = ["upc", "title", "releaseDate", "externalId", "type"]

SAME_BOTH_WAYS = {
    "plain": b"upc,title\n012345678905,A\n006025374126,B\n",
    "blank lines keep numbers": b"upc,title\n\n012345678905,A\n\r\n,\n006025374126,B\n\n",
    "quoted newline is one row": b'upc,title\n012345678905,"two\nlines"\n006025374126,B\n',
    "byte-order mark and CRLF": b"\xef\xbb\xbfupc,title\r\n012345678905,A\r\n",
    "sep line": b"sep=;\nupc;title\n012345678905;A\n",
    "trimmed like str.strip": "upc,title\n 012345678905 ,\u00a0A\u3000\n\x1c006025374126,\tB \n".encode(),
    "empty header with data": b"upc,,title\n012345678905,x,A\n006025374126,,B\n",
    "duplicate and unknown columns": b"upc,Title,title,Notes\n012345678905,A,B,n1\n006025374126,C,D,\n",
    "trailing empty columns": b"upc,title,,\n012345678905,A,,\n006025374126,B,,\n",
    "full-width title row": b"Catalog export 2024,,\nupc,title,type\n012345678905,A,Audio\n",
    "header only": b"upc,title\n",
    "leading blank rows": b",\n,\nupc,title\n012345678905,A\n",
    "semicolons sniffed": b"upc;title;type\n012345678905;A, B;Audio\n",
    "quotes inside": b'upc,title\n012345678905,"say ""hi"""\n006025374126,x"y"\n',
}


def _exact(monkeypatch: pytest.MonkeyPatch, path: Path, **kwargs: object):
    with monkeypatch.context() as m:
        m.setattr(loader, "read_csv_table", lambda *a, **k: None)
        return load_sheet(path, **kwargs)


def _columnar(monkeypatch: pytest.MonkeyPatch, path: Path, **kwargs: object):
    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("the exact reader was used for a file the columnar reader takes")

    with monkeypatch.context() as m:
        m.setattr(loader, "read_csv_rows", refuse)
        return load_sheet(path, **kwargs)


def _summary(sheet) -> dict:
    return {
        "data": sheet.data.to_dict("split"),
        "dtypes": [str(t) for t in sheet.data.dtypes],
        "problems": [
            (p.code, p.severity, p.cell, p.row, p.column, p.value, p.message) for p in sheet.problems
        ],
        "headers": sheet.headers,
        "columns": sheet.columns,
        "letters": sheet.letters,
        "header_row": sheet.header_row,
        "source_headers": sheet.source_headers,
        "ignored": None if sheet.ignored is None else sheet.ignored.to_dict("split"),
        "encoding": sheet.encoding,
        "delimiter": sheet.delimiter,
    }


@pytest.mark.parametrize("name", list(SAME_BOTH_WAYS))
@pytest.mark.parametrize("known", [None, FIELDS])
def test_the_columnar_reader_gives_the_exact_readers_sheet(tmp_path, monkeypatch, name, known) -> None:
    path = tmp_path / "cat.csv"
    path.write_bytes(SAME_BOTH_WAYS[name])
    fast = _columnar(monkeypatch, path, known_fields=known)
    assert _summary(fast) == _summary(_exact(monkeypatch, path, known_fields=known))


def test_row_numbers_come_from_positions_with_blank_lines_and_quoted_newlines(tmp_path, monkeypatch) -> None:
    path = tmp_path / "cat.csv"
    path.write_bytes(b'upc,title\n\n012345678905,"a\nb"\n\n006025374126,B\n')
    sheet = _columnar(monkeypatch, path)
    assert sheet.data.index.tolist() == [3, 5]
    assert sheet.data.loc[3, "title"] == "a\nb"


def test_a_huge_cell_is_clipped_and_reported_on_its_cell(tmp_path, monkeypatch) -> None:
    path = tmp_path / "big.csv"
    big = "é" * (limits.MAX_CELL_CHARS + 5)
    path.write_text(f"upc,title\n012345678905,A\n006025374126,{big}\n", encoding="utf-8")
    sheet = _columnar(monkeypatch, path)
    assert sheet.data.loc[3, "title"] == big[: limits.MAX_CELL_CHARS]
    assert [(p.code, p.cell) for p in sheet.problems] == [("cell-too-large", "B3")]
    assert _summary(sheet) == _summary(_exact(monkeypatch, path))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"upc,title\n012345678905,A,extra\n", "ragged-row"),
        (b'upc,title\n012345678905,"never closed\nmore\n', "never closed"),
    ],
)
def test_files_pyarrow_refuses_are_read_exactly(tmp_path, data, message) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(data)
    assert columnar.read_csv_table(path, loader.sniff_csv(path)) is None
    try:
        sheet = load_sheet(path)
    except InputError as exc:
        assert message in str(exc)
    else:
        assert message in [p.code for p in sheet.problems]


def test_a_cp1252_file_takes_the_columnar_reader_with_its_warning(tmp_path, monkeypatch) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("upc,title\n012345678905,Café\n".encode("cp1252"))
    sheet = _columnar(monkeypatch, path)
    assert sheet.data.loc[2, "title"] == "Café"
    assert [p.code for p in sheet.problems] == ["encoding-guessed"]


def test_there_is_no_cell_count_refusal_by_default() -> None:
    assert limits.MAX_FILLED_CELLS is None  # was 6,000,000: a 550k-row x 11-column catalog was refused


def test_a_catalog_over_the_memory_budget_is_refused_with_its_own_message(tmp_path, monkeypatch) -> None:
    from bench.generate import make_catalog
    from click.testing import CliRunner

    path = make_catalog("royalti", 200, tmp_path / "cat.csv")
    monkeypatch.setattr(limits, "MEMORY_BUDGET_BYTES", 1024)
    with pytest.raises(
        InputError, match=r"refused: reading this 0 MB catalog would take about .* GB of memory"
    ):
        load_sheet(path)
    result = CliRunner().invoke(cli, ["validate", str(path), "-p", "royalti", "--engine", "memory"])
    assert result.exit_code == 1
    assert "memory" in result.output and "MEMORY_BUDGET_BYTES" in result.output
    assert "--engine auto or disk" in result.output  # validate takes it with the out-of-core engine
    assert "Traceback" not in result.output


@pytest.mark.parametrize("provider", ["royalti", "jogg", "keevault"])
def test_generated_catalogs_are_valid_and_take_the_columnar_reader(tmp_path, monkeypatch, provider) -> None:
    from bench.generate import COLUMNS, catalog_frame, make_catalog

    path = make_catalog(provider, 3_000, tmp_path / f"{provider}.csv", changed_share=0.01, seed=3)
    with monkeypatch.context() as m:
        m.setattr(loader, "read_csv_rows", None)  # any use of the exact reader fails
        sheet, _spec, report = validate_catalog(path, provider)
    assert report.problems == []
    assert sheet.columns == COLUMNS[provider] and len(sheet.data) == 3_000
    assert sheet.data.index[0] == 2
    frame = catalog_frame(provider, 3_000, changed_share=0.01, seed=3)
    pd.testing.assert_frame_equal(
        sheet.data.reset_index(drop=True).astype(object), frame.astype(object), check_dtype=False
    )
    edited = frame[COLUMNS[provider][1] if provider == "royalti" else "name"].str.endswith("(edited)")
    assert int(edited.sum()) == 30
