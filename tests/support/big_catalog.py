"""A big royalti CSV catalog with problems of every kind, spread over the whole file (so over the
chunks of the out-of-core engine): the input of the engine's golden tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from bench.generate import catalog_frame


def damaged_catalog(path: Path, rows: int) -> Path:
    """Write ``rows`` generated royalti rows with damage at rows spread from the first to the last."""
    frame = catalog_frame("royalti", rows)
    at = np.linspace(0, rows - 1, 40).astype(int)  # 40 places from the top to the bottom
    frame.insert(3, "Notes", "")  # an unknown column ...
    frame.insert(4, "", "")  # ... and one without a header, whose first value is far down
    frame.loc[at[30], ""] = "stray value"
    frame["originalReleaseDate"] = ""  # a date column written the US way, all the way down
    frame.loc[at[1::2], "originalReleaseDate"] = [
        f"{m}/{d}/2019" for m, d in zip(range(1, 13), range(13, 25), strict=True)
    ] + ["12/31/2018"] * (len(at[1::2]) - 12)
    frame.loc[at[0], "releaseDate"] = "2020-13-01"  # bad cells
    frame.loc[at[2], "type"] = "Vinyl"
    frame.loc[at[3], "c_line_year"] = "19x0"
    frame.loc[at[4], "upc"] = "1.23457E+11"  # Excel damage
    frame.loc[at[5], "upc"] = "#REF!"
    frame.loc[at[6], "externalId"] = "123.0"
    frame.loc[[at[7], at[20], at[39]], "upc"] = frame.loc[at[7], "upc"]  # duplicates across the file
    frame.loc[at[8:34], "catalogNumber"] = "CAT-SAME"  # a group of more rows than a message names
    frame.loc[at[9], "title"] = "bell\x07inside"  # control characters
    frame.loc[at[10], "displayArtist"] = "tab\x1bescape"
    for n, where in enumerate(at[11:15]):  # text a plain 'CSV' export turned into ?
        frame.loc[where, "title"] = f"Caf? M?moires {n}"
    frame.loc[at[15], ["upc", "catalogNumber", "externalId"]] = ""  # keyless rows
    frame.loc[at[16], ["upc", "catalogNumber", "externalId"]] = ""
    frame.loc[at[17], "title"] = ""  # required
    frame.loc[at[18], "title"] = "x" * 40_000  # longer than a cell may be
    frame.loc[at[19], "upc"] = " 012345678906 "  # a wrong check digit (a warning), trimmed
    frame.loc[at[21], "upc"] = "12345678905"  # Excel dropped the leading zero
    frame.loc[at[22], "title"] = "'=SUM(1)"  # the formula guard of a pulled sheet
    frame.to_csv(path, index=False, lineterminator="\n")
    return path
