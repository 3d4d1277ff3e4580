"""Regenerate the sample catalogs in this folder (valid ones and one file per defect).

    .venv/bin/python samples/make_samples.py

CSV files are written as UTF-8 text; XLSX files with openpyxl, every cell a text cell
formatted as Text unless the sample is *about* a cell Excel turned into a number (a UPC
that lost its leading zero, a date serial) — those hold a real numeric cell, exactly as
Excel saves them.  The expected problems of every defect file are asserted in
``tests/validation/test_samples.py``; ``README.md`` lists the files.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def upc(body: str) -> str:
    """``body`` (11 digits) plus its GS1 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


# --- royalti ---------------------------------------------------------------------------

ROYALTI_COLUMNS = [
    "id",
    "upc",
    "title",
    "displayArtist",
    "catalogNumber",
    "externalId",
    "type",
    "format",
    "explicit",
    "releaseDate",
    "mainGenre",
    "status",
    "label",
    "language",
    "c_line_year",
    "p_line_year",
    "totalTracks",
    "reissue",
]
ROYALTI_ROWS = [
    [
        "550e8400-e29b-41d4-a716-446655440000",
        upc("01234567890"),
        "Summer Vibes",
        "John Doe feat. Jane Smith",
        "CAT-2024-001",
        "EXT-12345",
        "Audio",
        "Single",
        "clean",
        "2024-06-15",
        "Pop",
        "Live",
        "Sunset Records",
        "en",
        "2024",
        "2024",
        "1",
        "false",
    ],
    [
        "",
        upc("00602537412"),
        "Nachtfahrt",
        "Die Stromer",
        "CAT-2024-002",
        "EXT-12346",
        "Audio",
        "Album",
        "clean",
        "2024-09-01",
        "Electronic",
        "Pending",
        "Kanal Records",
        "de",
        "2024",
        "2024",
        "11",
        "false",
    ],
    [
        "",
        upc("07567829123"),
        "Café Memories (Deluxe)",
        "Zoë Laurent",
        "CAT-2023-117",
        "EXT-12347",
        "audio",
        "EP",
        "explicit",
        "2023-11-24",
        "Jazz",
        "Live",
        "Sunset Records",
        "fr",
        "2023",
        "2023",
        "5",
        "false",
    ],
    [
        "",
        upc("88672143701"),
        "Live at the Roundhouse",
        "The Lamplighters",
        "CAT-2022-040",
        "EXT-12348",
        "Video",
        "Single",
        "clean",
        "2022-03-18",
        "Rock",
        "Taken Down",
        "Northern Lights",
        "en",
        "2022",
        "2022",
        "1",
        "false",
    ],
    [
        "",
        upc("19029876543"),
        "Lullabies for Rainy Days",
        "Mira Sato",
        "CAT-2025-003",
        "EXT-12349",
        "Audio",
        "LP",
        "clean",
        "2025-02-14",
        "Classical",
        "Scheduled",
        "Sunset Records",
        "ja",
        "2025",
        "2025",
        "14",
        "false",
    ],
    [
        "",
        upc("00093624990"),
        "Greatest Hits 1990–2000",
        "Various Artists",
        "CAT-2020-900",
        "EXT-12350",
        "Audio",
        "Album",
        "explicit",
        "2020-06-15",
        "Pop",
        "Live",
        "Kanal Records",
        "en",
        "2020",
        "1999",
        "18",
        "true",
    ],
]
# The small layout of the royalti defect files: A upc, B title, C displayArtist, D type,
# E format, F releaseDate, G c_line_year, H externalId.
R_SMALL = ["upc", "title", "displayArtist", "type", "format", "releaseDate", "c_line_year", "externalId"]
R_OK1 = [upc("01234567890"), "Summer Vibes", "John Doe", "Audio", "Single", "2024-06-15", "2024", "EXT-1"]
R_OK2 = [upc("00602537412"), "Nachtfahrt", "Die Stromer", "Audio", "Album", "2024-09-01", "2024", "EXT-2"]
R_OK3 = [upc("07567829123"), "Café Memories", "Zoë Laurent", "Audio", "EP", "2023-11-24", "2023", "EXT-3"]


def royalti() -> dict[str, tuple[list[str], list[list[Any]]]]:
    def small(*changes: tuple[int, int, Any]) -> list[list[Any]]:
        rows = [list(R_OK1), list(R_OK2), list(R_OK3)]
        for r, c, v in changes:
            rows[r][c] = v
        return rows

    return {
        "missing_title.csv": (R_SMALL, small((1, 1, ""))),
        "title_too_long.csv": (R_SMALL, small((0, 1, "Summer Vibes " * 20))),
        "upc_scientific.csv": (R_SMALL, small((1, 0, "6.02537E+11"))),
        "upc_bad_checksum.csv": (R_SMALL, small((0, 0, "012345678906"))),
        "upc_float.csv": (R_SMALL, small((2, 0, "75678291234.0"))),
        "bad_date.csv": (R_SMALL, small((0, 5, "2024-02-30"), (2, 5, "24/11/2023"))),
        "year_out_of_range.csv": (R_SMALL, small((0, 6, "1899"), (1, 6, "2101"))),
        "duplicate_upc.csv": (R_SMALL, small((2, 0, upc("01234567890")))),
        "not_in_enum_type.csv": (R_SMALL, small((1, 3, "Podcast"))),
        "upc_lost_leading_zero.xlsx": (R_SMALL, small((0, 0, int(upc("01234567890"))))),
        "date_serial.xlsx": (R_SMALL, small((1, 5, 45536))),  # 45536 = 2024-09-01, converted
        "date_serial.csv": (R_SMALL, small((1, 5, "45536"))),  # as text: suggested, not converted
        # the whole upc column as number cells: two intact UPCs (one column warning), one lost its zero
        "upc_number_column.xlsx": (
            R_SMALL,
            small(
                (0, 0, int(upc("88672143701"))),
                (1, 0, int(upc("19029876543"))),
                (2, 0, int(upc("01234567890"))),
            ),
        ),
        # what validate --fix repairs (A2 lost zero, F3 date serial) and what it must leave (A4 1.2E+11)
        "fixable_upc_and_date.xlsx": (
            R_SMALL,
            [
                [int(upc("01234567890")), *R_OK1[1:]],
                [upc("00602537412"), *R_OK2[1:5], 45536, *R_OK2[6:]],
                [upc("88672143701"), *R_OK3[1:]],
                [
                    "6.02537E+11",
                    "Nachtfahrt (Live)",
                    "Die Stromer",
                    "Audio",
                    "Single",
                    "2024-10-01",
                    "2024",
                    "EXT-4",
                ],
            ],
        ),
    }


# --- keevault --------------------------------------------------------------------------

KEEVAULT_COLUMNS = [
    "product_id",
    "name",
    "description",
    "source",
    "require_non_expired",
    "external_reference",
    "status",
]
KEEVAULT_ROWS = [
    ["5", "API Create Product", "Desktop app licence", "internal", "1", "", "active"],
    ["7", "PixelForge WordPress Theme", "Premium multipurpose theme", "envato", "1", "20098475", "active"],
    [
        "",
        "Invoice Desk Pro",
        "Self-hosted invoicing, yearly licence",
        "internal",
        "0",
        "INV-PRO-2024",
        "active",
    ],
    [
        "",
        "Legacy Backup Tool",
        "Discontinued; existing licences still verify",
        "internal",
        "0",
        "",
        "inactive",
    ],
    ["", "Chartify Plugin", "Charts for WooCommerce stores", "envato", "1", "31415926", "inactive"],
    ["12", "SEO Toolkit", "Rank tracking and audits", "Envato", "1", "27182818", "active"],
]
K_OK = [list(r) for r in KEEVAULT_ROWS[:3]]


def keevault() -> dict[str, tuple[list[str], list[list[Any]]]]:
    def small(*changes: tuple[int, int, Any]) -> list[list[Any]]:
        rows = [list(r) for r in K_OK]
        for r, c, v in changes:
            rows[r][c] = v
        return rows

    no_source_status = [c for c in KEEVAULT_COLUMNS if c not in ("source", "status")]
    return {
        "source_uppercase_ok.csv": (
            KEEVAULT_COLUMNS,
            small((0, 3, "INTERNAL"), (1, 3, "ENVATO"), (2, 6, "Active")),
        ),
        "bad_status.csv": (KEEVAULT_COLUMNS, small((1, 6, "archived"))),
        "bad_boolean.csv": (KEEVAULT_COLUMNS, small((0, 4, "maybe"))),
        "missing_required_columns.csv": (
            no_source_status,
            [[r[KEEVAULT_COLUMNS.index(c)] for c in no_source_status] for r in K_OK],
        ),
        "duplicate_external_reference.csv": (KEEVAULT_COLUMNS, small((2, 5, "20098475"))),
        "product_id_not_a_number.csv": (KEEVAULT_COLUMNS, small((0, 0, "five"))),
        # Keevault answers 751 "must not be greater than 255 characters" above 255
        "name_too_long.csv": (KEEVAULT_COLUMNS, small((1, 1, "N" * 256))),
        # booleans as a German, French and Spanish Excel writes them
        "boolean_locale_ok.csv": (
            KEEVAULT_COLUMNS,
            small((0, 4, "WAHR"), (1, 4, "faux"), (2, 4, "Verdadero")),
        ),
    }


# --- jogg ------------------------------------------------------------------------------

JOGG_COLUMNS = ["product_id", "url", "name", "description", "target_audience", "media"]
JOGG_ROWS = [
    [
        "NTQ0MTkzNjg",
        "https://shop.example.com/products/blush",
        "Happy Booster Heart Blush",
        "Brush on a radiant blushing glow.",
        "Beauty enthusiasts",
        "https://res.example.com/blush-front.jpg|https://res.example.com/blush-demo.mp4",
    ],
    ["", "https://shop.example.com/products/trail-runner-2", "", "", "", ""],
    ["", "https://shop.example.com/products/ceramic-pour-over", "", "", "Coffee lovers", ""],
    [
        "",
        "",
        "Aurora Desk Lamp",
        "Dimmable LED desk lamp with wireless charging base.",
        "Home office workers",
        '[{"type": 1, "name": "front", "url": "https://res.example.com/lamp.jpg", "description": "Lamp, front"}, '
        '{"type": 2, "name": "demo", "url": "https://res.example.com/lamp.mp4", "description": "Dimming demo"}]',
    ],
    [
        "",
        "",
        "Bamboo Yoga Mat",
        "Non-slip, 6 mm, carry strap included.",
        "Yoga beginners",
        "https://res.example.com/mat-1.jpg\nhttps://res.example.com/mat-2.jpg",
    ],
    ["MTIzNDU2Nzg", "", "Cold Brew Kit", "Everything for smooth cold brew at home.", "Coffee lovers", ""],
]
J_OK = [list(r) for r in JOGG_ROWS[:3]]


def jogg() -> dict[str, tuple[list[str], list[list[Any]]]]:
    def small(*changes: tuple[int, int, Any]) -> list[list[Any]]:
        rows = [list(r) for r in J_OK]
        for r, c, v in changes:
            rows[r][c] = v
        return rows

    return {
        "neither_url_nor_name.csv": (JOGG_COLUMNS, small((1, 1, ""), (1, 3, "Lightweight trail shoe"))),
        "bad_url.csv": (
            JOGG_COLUMNS,
            small(
                (1, 1, "shop.example.com/products/trail-runner-2"), (2, 1, "ftp://shop.example.com/pour-over")
            ),
        ),
        "float_product_id.csv": (JOGG_COLUMNS, small((0, 0, "12345678.0"))),
        "unknown_column.csv": ([*JOGG_COLUMNS, "price"], [[*r, "19.99"] for r in small()]),
        "header_only.csv": (JOGG_COLUMNS, []),
        "duplicate_url.csv": (
            JOGG_COLUMNS,
            small((2, 1, "https://shop.example.com/products/trail-runner-2")),
        ),
        "bad_media.csv": (
            JOGG_COLUMNS,
            small(
                (1, 5, '[{"type": 3, "url": "https://res.example.com/x.gif"}]'),
                (2, 5, "https://res.example.com/a.jpg|not a url"),
            ),
        ),
    }


# --- writers ---------------------------------------------------------------------------


def write_csv(path: Path, columns: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[str(v) for v in row] for row in rows])


def write_xlsx(path: Path, columns: list[str], rows: list[list[Any]], sheet: str = "Products") -> None:
    """Text cells formatted as Text; ints/dates are written as real number/date cells."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(columns)
    for i, row in enumerate(rows, 2):
        for j, value in enumerate(row, 1):
            if value == "":
                continue
            cell = ws.cell(row=i, column=j, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
                cell.number_format = "@"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_reproducible(buffer.getvalue()))


def _reproducible(xlsx: bytes) -> bytes:
    """The same bytes on every run: fixed zip timestamps and document dates."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", data
                )
            dst.writestr(
                zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0)),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return out.getvalue()


def main(root: Path = HERE) -> None:
    valid = {
        "royalti": (ROYALTI_COLUMNS, ROYALTI_ROWS, royalti()),
        "keevault": (KEEVAULT_COLUMNS, KEEVAULT_ROWS, keevault()),
        "jogg": (JOGG_COLUMNS, JOGG_ROWS, jogg()),
    }
    for provider, (columns, rows, defects) in valid.items():
        folder = root / provider
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(folder / "catalog.csv", columns, rows)
        xlsx_rows = [list(r) for r in rows]
        if provider == "royalti":
            # as people type them in Excel: a real date cell and real number cells
            for r in xlsx_rows:
                r[columns.index("releaseDate")] = date.fromisoformat(r[columns.index("releaseDate")])
                r[columns.index("totalTracks")] = int(r[columns.index("totalTracks")])
        write_xlsx(folder / "catalog.xlsx", columns, xlsx_rows)
        for name, (cols, drows) in defects.items():
            (write_xlsx if name.endswith(".xlsx") else write_csv)(folder / name, cols, drows)


if __name__ == "__main__":
    main()
