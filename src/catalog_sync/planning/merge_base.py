"""Read the base a pulled workbook carries (the hidden ``_catalog_sync`` sheet) back.

A sheet with a base is merged three ways (``plan.diff``): the sheet's cell, the value as it was
pulled, and the provider's value now.  A base that does not belong to this provider and base URL,
or that cannot be read, is not used: the sheet is compared two ways, and a note says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from catalog_sync.config.credentials import public_base_url
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.normalise import normalise_value

__all__ = ["Base", "read_base"]

_WORKBOOKS = (".xlsx", ".xlsm", ".ods")
BASE_SHEET = "_catalog_sync"
BASE_FORMAT = "catalog-sync-base/1"


@dataclass
class Base:
    """What a pull saw: per remote id, the pulled value of each field (canonical form)."""

    provider: str
    base_url: str
    pulled_at: str
    values: dict[str, dict[str, str]] = field(default_factory=dict)


def read_base(path: str | Path, spec: ProviderSpec) -> tuple[Base | None, str]:
    """(the base of the workbook at ``path``, or None; a note when a base was there but not used)."""
    path = Path(path)
    if path.suffix.lower() not in _WORKBOOKS:
        return None, ""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        if BASE_SHEET not in book.sheet_names:
            return None, ""
        rows = [[_text(v) for v in row] for row in book.get_sheet_by_name(BASE_SHEET).to_python()]
    except Exception as exc:  # the catalog itself loaded; a broken base only loses the merge
        return (
            None,
            f"the hidden {BASE_SHEET} sheet could not be read ({type(exc).__name__}); compared two ways",
        )
    return _parse(rows, spec)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _parse(rows: list[list[str]], spec: ProviderSpec) -> tuple[Base | None, str]:
    meta: dict[str, str] = {}
    header_at = next((i for i, row in enumerate(rows) if row and row[0] == "remote_id"), None)
    for row in rows[: header_at if header_at is not None else len(rows)]:
        if len(row) >= 2 and row[0]:
            meta[row[0]] = row[1]
    if meta.get("format") != BASE_FORMAT or header_at is None:
        return None, f"the hidden {BASE_SHEET} sheet is not a base this catalog-sync reads; compared two ways"
    if meta.get("provider") != spec.provider:
        return (
            None,
            f"the sheet was pulled from {meta.get('provider')!r}, not {spec.provider}; compared two ways",
        )
    columns = rows[header_at][1:]
    fields = {f.name: f for f in spec.fields}
    base = Base(meta["provider"], meta.get("base_url", ""), meta.get("pulled_at", ""))
    for row in rows[header_at + 1 :]:
        if not row or not row[0]:
            continue
        cells = row[1:] + [""] * (len(columns) - len(row) + 1)
        base.values[row[0]] = {
            name: normalise_value(value, fields[name])
            for name, value in zip(columns, cells, strict=False)
            if name in fields
        }
    return base, ""


def usable_base(base: Base | None, note: str, base_url: str) -> tuple[Base | None, str]:
    """The base when it was pulled from this base URL; otherwise None and the reason."""
    if base is None or public_base_url(base.base_url) == public_base_url(base_url):
        return base, note
    return None, (
        f"the sheet was pulled from {base.base_url}, not {public_base_url(base_url)}; compared two ways"
    )
