"""``--mapping``: your column headers → the provider's field names.

Formats, chosen by extension:

* YAML / JSON: a mapping ``{"Your header": "field"}`` (optionally under a top-level
  ``columns:`` or ``mapping:`` key).  A ``null`` or empty target ignores the column.
* CSV: two columns, your header then the field; a first row like ``header,field`` is
  taken as a title row and skipped.

Headers are matched ignoring case and spacing.  A target that is not one of the
provider's fields is a :class:`ConfigError` (checked by :func:`resolve_mapping`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from catalog_sync.errors import ConfigError
from catalog_sync.sheets.table import header_key

_TITLE_WORDS = {"field", "fields", "provider field", "to", "target", "api field", "catalog-sync field"}


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read mapping file {path}: {exc.strerror or exc}") from None
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    raise ConfigError(f"mapping file {path} is not UTF-8 text")  # pragma: no cover - cp1252 rarely fails


def _duplicate(path: Path, key: object, where: str = "") -> ConfigError:
    return ConfigError(
        f"mapping file {path}{where}: the header {key!r} is listed twice; keep one line per header"
    )


def _from_csv(text: str, path: Path) -> dict[str, str | None]:
    sample = text[:4096]
    delim = max((",", ";", "\t", "|"), key=sample.count)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows = []
    for row in reader:
        if any(c.strip() for c in row):
            rows.append((reader.line_num, row))
    if rows and len(rows[0][1]) >= 2 and rows[0][1][1].strip().casefold() in _TITLE_WORDS:
        rows = rows[1:]
    result: dict[str, str | None] = {}
    for line, row in rows:
        cells = [c.strip() for c in row]
        if len(cells) < 2 or any(cells[2:]):
            raise ConfigError(f"mapping file {path}, line {line}: expected two columns (your header, field)")
        if cells[0] in result:
            raise _duplicate(path, cells[0], f", line {line}")
        result[cells[0]] = cells[1] or None
    return result


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str | int) and key in seen:
            line = key_node.start_mark.line + 1
            raise ConfigError(f"the header {key!r} is listed twice (line {line}); keep one line per header")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _json_pairs(path: Path):  # type: ignore[no-untyped-def]
    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        result: dict[str, object] = {}
        for key, value in pairs:
            if key in result:
                raise _duplicate(path, key)
            result[key] = value
        return result

    return hook


def load_mapping(path: str | Path) -> dict[str, str]:
    """Read a mapping file; returns ``{your header: field}`` ('' = ignore that column)."""
    path = Path(path)
    text = _read_text(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            data: object = _from_csv(text, path)
        elif suffix == ".json":
            data = json.loads(text, object_pairs_hook=_json_pairs(path))
        else:
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"mapping file {path} cannot be parsed: {exc}") from None
    except ConfigError as exc:
        if str(path) in exc.message:
            raise
        raise ConfigError(f"mapping file {path}: {exc.message}") from None
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in ("columns", "mapping"):
        data = next(iter(data.values()))
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"mapping file {path} must map your headers to field names, e.g. 'Barcode: upc'")
    result: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str | int) or not isinstance(value, str | type(None)):
            raise ConfigError(f"mapping file {path}: {key!r}: {value!r} is not 'header: field'")
        result[str(key).strip()] = (value or "").strip()
    return result


def resolve_mapping(
    mapping: Mapping[str, str] | str | Path | None, known_fields: Sequence[str] | None
) -> dict[str, str]:
    """Normalise a mapping for lookup: keys by :func:`header_key`, targets in the field's spelling."""
    if mapping is None:
        return {}
    raw = load_mapping(mapping) if isinstance(mapping, str | Path) else dict(mapping)
    known = {f.casefold(): f for f in known_fields} if known_fields is not None else None
    resolved: dict[str, str] = {}
    for header, target in raw.items():
        key = header_key(str(header))
        target = (target or "").strip()
        if target and known is not None:
            if target.casefold() not in known:
                raise ConfigError(
                    f"mapping {header!r} → {target!r}: {target!r} is not a field of this provider "
                    f"(fields: {', '.join(known.values())})"
                )
            target = known[target.casefold()]
        if key in resolved and resolved[key] != target:
            raise ConfigError(f"mapping lists the header {header!r} twice with different fields")
        resolved[key] = target
    return resolved
