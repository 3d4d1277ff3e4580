"""The video sheet: its schema (``providers/jogg/videos.yaml``), its validation, and its rows as requests.

Validation uses the catalog machinery (the pandera schema compiled from the spec, spreadsheet
damage, row rules, the located problem list) and adds what only a video sheet has: each row's
product must be found (by ``product_id``, else through the ledger's product records by ``url``,
else ``name``), and two rows asking for the same video of the same product are a
``duplicate-key``.  Each valid row becomes a :class:`VideoRow`: the nested request body of
JOGG-oas (``video_spec``, ``avatar``, ``voice``, ``audio``, ``script``) and the fingerprint of
its settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec, load_spec
from catalog_sync.spec.normalise import normalise_value
from catalog_sync.state import Ledger, LedgerRecord, LedgerScope
from catalog_sync.validation.excel import excel_damage
from catalog_sync.validation.result import ValidationReport, sort_problems
from catalog_sync.validation.rows import row_rules
from catalog_sync.validation.schema import build_pandera_schema, schema_problems
from catalog_sync.videos.pricing import credits_for

__all__ = [
    "VIDEO_SPEC",
    "VideoRow",
    "load_video_sheet",
    "resolve_rows",
    "settings_fingerprint",
    "validate_video_sheet",
    "video_body",
    "video_spec",
]

#: The schema of the video sheet (``providers/jogg/videos.yaml``).
VIDEO_SPEC = "jogg-videos"
#: Request fields that are not settings of the video: changing them makes no new video.
NOT_SETTINGS = ("product_id", "webhook_url")


def video_spec() -> ProviderSpec:
    return load_spec(VIDEO_SPEC)


@dataclass(frozen=True)
class VideoRow:
    """One wanted video: the sheet row, its product, the request body and its settings fingerprint."""

    row: int
    product_id: str
    product: str  # how the sheet named the product (``product_id=…``, ``url=…``, ``name=…``)
    body: dict[str, Any]
    settings: str
    name: str  # the video name sent ("" when the sheet gave none)
    credits: float
    #: what a person calls the product (its name or url as the ledger knows it; "" when unknown)
    product_label: str = ""


def load_video_sheet(path: str | Path, **read: Any) -> tuple[Sheet, ProviderSpec]:
    """Read the video sheet (``sheet``, ``mapping``, ``encoding``, ``delimiter`` as for a catalog)."""
    from catalog_sync.sheets import load_sheet  # the loader package imports the heavier readers

    spec = video_spec()
    sheet = load_sheet(path, known_fields=spec.field_names, **read)
    _whole_numbers(sheet)
    return sheet, spec


#: Enum columns of numbers: a spreadsheet that turned ``15`` into ``15.0`` still means 15.
WHOLE_NUMBER_COLUMNS = ("length", "avatar_type")


def _whole_numbers(sheet: Sheet) -> None:
    """``15.0`` (a spreadsheet's number written back as text) in a numeric enum column is ``15``."""
    for column in WHOLE_NUMBER_COLUMNS:
        if column in sheet.data.columns:
            sheet.data[column] = sheet.data[column].str.replace(r"^\s*(\d+)\.0+\s*$", r"\1", regex=True)


def validate_video_sheet(sheet: Sheet, spec: ProviderSpec) -> ValidationReport:
    """Every problem of the sheet's cells (types, the API's enums, required cells, damage, row rules)."""
    damage = excel_damage(sheet, spec)
    damaged = {(p.row, p.column) for p in damage if p.severity == "error"}
    cells = [
        p for p in schema_problems(sheet, build_pandera_schema(spec)) if (p.row, p.column) not in damaged
    ]
    problems = [*sheet.problems, *cells, *damage, *row_rules(sheet, spec)]
    order = list(sheet.columns) + [f for f in spec.field_names if f not in sheet.columns]
    return ValidationReport(
        problems=sort_problems(problems, order), sheet=sheet.display_name, path=str(sheet.path)
    )


def canonical_rows(sheet: Sheet, spec: ProviderSpec) -> Iterable[tuple[int, dict[str, str]]]:
    """(row number, every field of the spec in canonical form) for each data row."""
    columns = [f for f in spec.fields if f.name in sheet.data.columns]
    for row, values in sheet.data.iterrows():
        fields = {f.name: normalise_value(values[f.name], f) for f in columns}
        yield int(str(row)), {f.name: fields.get(f.name, "") for f in spec.fields}


def video_body(fields: dict[str, str], product_id: str) -> dict[str, Any]:
    """The nested ``POST /v2/create_video_from_product`` body of one row (JOGG-oas, not the flat example)."""
    spec: dict[str, Any] = {"length": fields["length"]}
    if fields.get("aspect_ratio"):
        spec["aspect_ratio"] = fields["aspect_ratio"]
    if fields.get("caption"):
        spec["caption"] = fields["caption"] == "true"
    if fields.get("video_name"):
        spec["name"] = fields["video_name"]
    body: dict[str, Any] = {
        "product_id": product_id,
        "video_spec": spec,
        "avatar": {"id": int(fields["avatar_id"]), "type": int(fields.get("avatar_type") or 0)},
        "voice": {"id": fields["voice_id"]} if fields.get("voice_id") else {},
        "audio": {"music_id": int(fields["music_id"])} if fields.get("music_id") else {},
        "script": {"style": fields["script_style"], "language": fields["language"]},
    }
    for name in ("visual_style", "override_script", "webhook_url"):
        if fields.get(name):
            body[name] = fields[name]
    return body


def settings_fingerprint(body: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of what makes the video (the body without product and webhook)."""
    settings = {k: v for k, v in body.items() if k not in NOT_SETTINGS}
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Products:
    """The ledger's JoggAI products at one base URL, found by url or by name."""

    def __init__(self, records: list[LedgerRecord]) -> None:
        self.by: dict[str, dict[str, list[str]]] = {"url": {}, "name": {}}
        spec = load_spec("jogg")
        self.labels = {record.remote_id: spec.label_of(record.fields) for record in records}
        for record in records:
            for key in ("url", "name"):
                value = normalise_value(record.fields.get(key, ""), spec.field(key))
                if value:
                    self.by[key].setdefault(value, []).append(record.remote_id)

    def find(self, key: str, value: str) -> list[str]:
        return self.by[key].get(value, [])


def _product_of(fields: dict[str, str], products: _Products) -> tuple[str | None, str, str | None]:
    """(product id or None, how the row named it, why it could not be found)."""
    if fields.get("product_id"):
        return fields["product_id"], f"product_id={fields['product_id']}", None
    for key in ("url", "name"):
        value = fields.get(key, "")
        if not value:
            continue
        found = products.find(key, value)
        named = f"{key}={value}"
        if len(found) == 1:
            return found[0], named, None
        if found:
            return (
                None,
                named,
                f"{len(found)} products in the state database have this {key}: fill product_id",
            )
        return (
            None,
            named,
            (
                f"no product with this {key} is in the state database (created by `catalog-sync apply -p jogg` "
                "with this --state and base URL); fill product_id, or apply the product catalog first"
            ),
        )
    return None, "", "no product_id, url or name"  # row rules report this row already


def resolve_rows(
    sheet: Sheet, spec: ProviderSpec, ledger: Ledger, scope: LedgerScope
) -> tuple[list[VideoRow], list[Problem]]:
    """The sheet's rows as :class:`VideoRow` (product found, body built), and the problems found doing it:
    ``unknown-product`` (no such product in the ledger) and ``duplicate-key`` (the same video twice)."""
    products = _Products(ledger.records(scope))
    rows: list[VideoRow] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for number, fields in canonical_rows(sheet, spec):
        product_id, named, why = _product_of(fields, products)
        if product_id is None:
            if named:
                problems.append(_problem(sheet, number, named, "unknown-product", f"{named}: {why}"))
            continue
        body = video_body(fields, product_id)
        settings = settings_fingerprint(body)
        first = seen.setdefault((product_id, settings), number)
        if first != number:
            message = (
                f"row {number} asks for the same video as row {first} (same product {product_id}, same "
                "settings): one video is made per product and settings; remove the row or change a setting"
            )
            problems.append(_problem(sheet, number, named, "duplicate-key", message))
            continue
        rows.append(
            VideoRow(
                row=number,
                product_id=product_id,
                product=named,
                body=body,
                settings=settings,
                name=fields.get("video_name", ""),
                credits=credits_for(int(fields["length"])),
                product_label=products.labels.get(product_id, ""),
            )
        )
    return rows, problems


def _problem(sheet: Sheet, row: int, named: str, code: str, message: str) -> Problem:
    column = named.partition("=")[0] or None
    value = named.partition("=")[2] or None
    return Problem(
        code=code,
        message=message,
        sheet=sheet.display_name,
        cell=sheet.cell(row, column) if column and column in sheet.columns else None,
        row=row,
        column=column,
        value=value,
    )
