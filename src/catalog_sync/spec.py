"""Provider schema specs: the readable YAML in ``schemas/`` loaded into typed objects.

The spec is the single source of truth for a provider's columns.  Validation compiles it
into a pandera schema (``validation.schema``); the planner uses it to normalise values
before diffing; ``template`` writes it as an xlsx.  The engine is kept apart from the spec
(as pandera keeps ``DataFrameSchema`` apart from its backends).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from catalog_sync.errors import ConfigError

FIELD_TYPES = {"string", "integer", "boolean", "date", "url", "gtin", "enum", "list", "media"}
_FIELD_ATTRS = {
    "name",
    "type",
    "required",
    "values",
    "case_insensitive",
    "min_length",
    "max_length",
    "length",
    "pattern",
    "min",
    "max",
    "identifier",
    "role",
    "description",
    "example",
    "style",
}


@dataclass(frozen=True)
class FieldSpec:
    """One sheet column / API field."""

    name: str
    type: str = "string"
    required: bool = False
    values: tuple[str, ...] = ()
    case_insensitive: bool = False
    min_length: int | None = None
    max_length: int | None = None
    length: int | None = None
    pattern: str | None = None
    min: int | None = None
    max: int | None = None
    identifier: bool = False
    role: str | None = None
    description: str = ""
    example: str = ""
    style: str | None = None  # booleans: "one_zero" (1/0) or "true_false"

    @property
    def is_remote_id(self) -> bool:
        return self.role == "remote_id"


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row (``one_of_required``)."""

    one_of_required: tuple[str, ...]
    message: str = ""


@dataclass(frozen=True)
class ProviderSpec:
    """A provider's schema: its fields, match keys and row rules."""

    provider: str
    title: str
    description: str
    keys: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    rules: tuple[RowRule, ...] = ()
    house_rules: tuple[str, ...] = field(default=())  # names of --schema files applied

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def remote_id(self) -> str:
        return next(f.name for f in self.fields if f.is_remote_id)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _field_from_dict(raw: dict[str, Any], source: str) -> FieldSpec:
    unknown = set(raw) - _FIELD_ATTRS
    if unknown:
        raise ConfigError(f"{source}: field {raw.get('name')!r} has unknown attributes {sorted(unknown)}")
    if "name" not in raw:
        raise ConfigError(f"{source}: every field needs a name")
    ftype = raw.get("type", "string")
    if ftype not in FIELD_TYPES:
        raise ConfigError(
            f"{source}: field {raw['name']!r} has unknown type {ftype!r}; use one of {sorted(FIELD_TYPES)}"
        )
    data = dict(raw)
    data["values"] = tuple(str(v) for v in raw.get("values", ()))
    for key in ("example", "description"):
        data[key] = str(raw.get(key, "")).strip()
    return FieldSpec(**data)


def _read_yaml(path: Path | Any, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read schema file {source}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"schema file {source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"schema file {source} must hold a mapping (provider, keys, fields)")
    return data


def _rules(raw: list[dict[str, Any]] | None, source: str) -> tuple[RowRule, ...]:
    rules = []
    for rule in raw or ():
        if "one_of_required" not in rule:
            raise ConfigError(f"{source}: unknown rule {rule!r}; supported: one_of_required")
        rules.append(RowRule(tuple(rule["one_of_required"]), str(rule.get("message", ""))))
    return tuple(rules)


def load_spec(provider: str, house_rules: list[Path] | tuple[Path, ...] = ()) -> ProviderSpec:
    """Load ``schemas/<provider>.yaml`` and apply the user's house-rule files on top."""
    ref = resources.files("catalog_sync") / "schemas" / f"{provider}.yaml"
    if not ref.is_file():
        raise ConfigError(f"no schema for provider {provider!r}")
    raw = _read_yaml(ref, f"schemas/{provider}.yaml")
    fields = tuple(_field_from_dict(f, f"schemas/{provider}.yaml") for f in raw.get("fields", ()))
    spec = ProviderSpec(
        provider=raw["provider"],
        title=raw.get("title", provider),
        description=str(raw.get("description", "")).strip(),
        keys=tuple(raw.get("keys", ())),
        fields=fields,
        rules=_rules(raw.get("rules"), f"schemas/{provider}.yaml"),
    )
    for path in house_rules:
        spec = apply_house_rules(spec, Path(path))
    return spec


def apply_house_rules(spec: ProviderSpec, path: Path) -> ProviderSpec:
    """Tighten ``spec`` with a user schema file (fields that exist may only gain rules)."""
    raw = _read_yaml(path, str(path))
    if raw.get("provider") not in (None, spec.provider):
        raise ConfigError(f"{path}: is a schema for provider {raw['provider']!r}, not {spec.provider!r}")
    by_name = {f.name: f for f in spec.fields}
    for entry in raw.get("fields", ()) or ():
        if not isinstance(entry, dict) or "name" not in entry:
            raise ConfigError(f"{path}: each entry of fields needs a name")
        name = entry["name"]
        if name not in by_name:
            raise ConfigError(
                f"{path}: field {name!r} is not a {spec.provider} field; known: {', '.join(by_name)}"
            )
        unknown = set(entry) - _FIELD_ATTRS
        if unknown:
            raise ConfigError(f"{path}: field {name!r} has unknown attributes {sorted(unknown)}")
        changes = {k: v for k, v in entry.items() if k not in ("name", "type", "role")}
        if "values" in changes:
            changes["values"] = tuple(str(v) for v in changes["values"])
        by_name[name] = replace(by_name[name], **changes)
    return replace(
        spec,
        fields=tuple(by_name[f.name] for f in spec.fields),
        rules=spec.rules + _rules(raw.get("rules"), str(path)),
        house_rules=(*spec.house_rules, str(path)),
    )
