"""Generated catalogs for the benchmarks: valid CSV catalogs of any size for each provider.

``make_catalog("royalti", 1_000_000, path)`` writes a catalog that ``catalog-sync validate``
accepts with no problem, using the provider's template columns (the names of its spec).
Rows are deterministic in ``(provider, row, seed)``; ``changed_share`` edits a deterministic
share of the rows (their title / name) so the same rows generated with ``changed_share=0``
stand for what the provider holds and the edited ones for a sheet with ``changed_share`` of
the rows changed.  Columns are built with numpy, so 1M rows take a few seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd


def _numbered(prefix: str, numbers: np.ndarray, width: int = 7, suffix: str = "") -> np.ndarray:
    text = np.char.zfill(numbers.astype(str), width)
    return np.char.add(np.char.add(prefix, text), suffix) if suffix else np.char.add(prefix, text)


def gtin12(numbers: np.ndarray) -> np.ndarray:
    """Valid 12-digit UPCs (GS1 check digit) for the numbers (each below 10**11)."""
    digits = (numbers[:, None] // 10 ** np.arange(10, -1, -1)) % 10  # 11 digits, most significant first
    weights = np.where(np.arange(11) % 2 == 0, 3, 1)  # 3,1,3,… from the left = from the check digit
    check = (10 - (digits @ weights) % 10) % 10
    return np.char.add(np.char.zfill(numbers.astype(str), 11), check.astype(str))


def _pick(choices: list[str], numbers: np.ndarray) -> np.ndarray:
    return np.asarray(choices, dtype=object)[numbers % len(choices)]


def _royalti(n: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    days = np.datetime64("2015-01-01") + rng.integers(0, 3650, len(n)).astype("timedelta64[D]")
    return {
        "upc": gtin12(n + 10**9),
        "title": _numbered("Release ", n),
        "displayArtist": _pick(["John Doe", "Die Stromer", "Les Rêveurs", "Band feat. Jane"], n // 7),
        "catalogNumber": _numbered("CAT-", n),
        "externalId": _numbered("EXT-", n),
        "type": _pick(["Audio", "Video", "Ringtone"], n),
        "format": _pick(["Single", "EP", "Album", "LP"], n // 3),
        "explicit": _pick(["clean", "explicit"], n // 5),
        "releaseDate": np.datetime_as_string(days, unit="D"),
        "c_line_year": rng.integers(1990, 2025, len(n)).astype(str),
        "status": _pick(["Live", "Pending", "Scheduled"], n // 11),
    }


def _jogg(n: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    urls = _numbered("https://shop.example.com/products/item-", n)
    return {
        "product_id": np.full(len(n), "", dtype=object),
        "url": urls,
        "name": _numbered("Product ", n),
        "description": _pick(["A fine product.", "Brush on a radiant glow.", "Runs far."], n),
        "target_audience": _pick(["Beauty enthusiasts", "Runners", "Everyone"], n // 3),
        "media": _numbered("https://res.example.com/img-", n, suffix=".jpg"),
    }


def _keevault(n: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "product_id": np.full(len(n), "", dtype=object),
        "name": _numbered("Licence ", n),
        "description": _pick(["Desktop app licence", "Premium theme", "Plugin"], n),
        "source": _pick(["internal", "envato"], n),
        "require_non_expired": _pick(["1", "0"], n // 2),
        "external_reference": _numbered("REF-", n),
        "status": _pick(["active", "inactive"], n // 13),
    }


_BUILDERS: dict[str, Callable[[np.ndarray, np.random.Generator], dict[str, np.ndarray]]] = {
    "royalti": _royalti,
    "jogg": _jogg,
    "keevault": _keevault,
}
_EDITED = {"royalti": "title", "jogg": "name", "keevault": "name"}
#: The columns written per provider (all fields of the provider's template that a new row fills):
#: the keys a builder gives (for one row), in its order.
COLUMNS = {
    provider: list(build(np.arange(1, dtype=np.int64), np.random.default_rng(0)))
    for provider, build in _BUILDERS.items()
}


def changed_rows(rows: int, changed_share: float, seed: int = 0) -> np.ndarray:
    """The 0-based positions of the rows ``changed_share`` edits (deterministic in ``seed``)."""
    count = round(rows * changed_share)
    if count <= 0:
        return np.array([], dtype=np.int64)
    rng = np.random.default_rng(seed + 1)
    return np.sort(rng.choice(rows, size=count, replace=False))


def catalog_frame(
    provider: str, rows: int, changed_share: float = 0.0, seed: int = 0, start: int = 0
) -> pd.DataFrame:
    """The catalog as a frame of text (the columns of :data:`COLUMNS`); ``start``: the number of its
    first row (rows ``start`` to ``start + rows - 1`` of a bigger catalog, written in parts)."""
    if provider not in _BUILDERS:
        raise ValueError(f"unknown provider {provider!r}; one of {', '.join(_BUILDERS)}")
    numbers = np.arange(start, start + rows, dtype=np.int64)
    columns = _BUILDERS[provider](numbers, np.random.default_rng(seed))
    frame = pd.DataFrame({name: column.astype(object) for name, column in columns.items()})
    edited = changed_rows(rows, changed_share, seed)
    if len(edited):
        column = _EDITED[provider]
        frame.loc[edited, column] = frame.loc[edited, column] + " (edited)"
    return frame


def make_catalog(
    provider: str, rows: int, path: str | Path, changed_share: float = 0.0, seed: int = 0
) -> Path:
    """Write a valid CSV catalog of ``rows`` rows for ``provider`` to ``path``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = catalog_frame(provider, rows, changed_share, seed)
    frame.to_csv(path, index=False, lineterminator="\n")  # minimal quoting, as a spreadsheet exports
    return path


def make_big_catalog(provider: str, rows: int, path: str | Path, part: int = 1_000_000) -> Path:
    """:func:`make_catalog` for catalogs past memory (10M rows): written ``part`` rows at a time."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        for n, start in enumerate(range(0, rows, part)):
            frame = catalog_frame(provider, min(part, rows - start), seed=n, start=start)
            frame.to_csv(out, index=False, header=n == 0, lineterminator="\n")
    return path


if __name__ == "__main__":  # python -m bench.generate royalti 1000000 out.csv
    import sys

    provider, count, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    share = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    print(make_catalog(provider, count, target, changed_share=share))
