"""A UTF-8 file with a stray byte is refused, never read whole as cp1252; real cp1252 still reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog_sync.cli.main import cli
from catalog_sync.errors import InputError
from catalog_sync.sheets import load_sheet

UTF8_ROWS = "upc,title,artist\n012345678905,Zoë Café,Ünïcode Band\n012345678912,Straße,Øre\n"


def _utf8_with_a_stray_byte(tmp_path: Path) -> tuple[Path, int]:
    data = UTF8_ROWS.encode("utf-8")
    at = data.index(b"Stra")  # line 3
    damaged = data[:at] + b"\xe9" + data[at:]  # one cp1252 "é" dropped into a UTF-8 file
    path = tmp_path / "cat.csv"
    path.write_bytes(damaged)
    return path, at


def test_utf8_with_one_stray_byte_is_refused_naming_offset_and_line(tmp_path):
    path, offset = _utf8_with_a_stray_byte(tmp_path)
    with pytest.raises(InputError) as err:
        load_sheet(path)
    message = str(err.value)
    assert f"offset {offset} (line 3)" in message
    assert "cat.csv" in message and "--encoding cp1252" in message


def test_the_cli_refuses_it_with_exit_1_and_never_shows_mojibake(tmp_path):
    path, offset = _utf8_with_a_stray_byte(tmp_path)
    result = CliRunner().invoke(cli, ["validate", str(path), "-p", "royalti"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert f"offset {offset} (line 3)" in result.stderr
    assert "Ã" not in result.output and "unexpected" not in result.output


def test_a_genuine_german_excel_cp1252_export_still_reads_with_a_warning(tmp_path):
    text = "upc;title;Größe\n012345678905;Café Müller;Größe L\n012345678912;Bräu;Maß 1\n"
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("cp1252"))
    sheet = load_sheet(path)
    assert sheet.encoding == "cp1252"
    assert sheet.data.loc[2, "title"] == "Café Müller"
    assert sheet.data.loc[3, "title"] == "Bräu"
    assert [p.code for p in sheet.problems if p.code == "encoding-guessed"] == ["encoding-guessed"]


def test_a_utf8_sequence_split_across_read_chunks_is_still_seen(tmp_path, monkeypatch):
    from catalog_sync.sheets import limits

    monkeypatch.setattr(limits, "CHUNK_BYTES", 16)
    data = "upc,title\n12,Zoë\n".encode()
    assert data[15:17] == "ë".encode()  # c3 | ab straddles the 16-byte chunk boundary
    path = tmp_path / "cat.csv"
    path.write_bytes(data + b"2,caf\xe9\n")
    with pytest.raises(InputError, match=r"offset 23 \(line 3\)"):
        load_sheet(path)
