"""Provider schema specs: the readable YAML of each provider folder loaded into typed objects.

The spec is the single source of truth for a provider's columns.  Validation compiles it
into a pandera schema (``validation.schema``); the planner uses it to normalise values
before diffing; ``template`` writes it as an xlsx.  The engine is kept apart from the spec
(as pandera keeps ``DataFrameSchema`` apart from its backends).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
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
    "updatable",
    "placeholder",
    "strict_uri",
    "clearable",
    "prefer",
    "policy",
}
#: The sides a three-way conflict on a field can be settled to (``prefer`` in house rules, ``--prefer``).
SIDES = ("sheet", "remote")
#: When a field is written (``policy`` in house rules): always; only into an empty remote field; only
#: when the record is created; never (the column is read, never sent).
POLICIES = ("overwrite", "fill-empty", "create-only", "never")


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
    updatable: bool = True  # False: the provider's update cannot change it (set only on create)
    placeholder: str | None = None  # regex: remote values the provider fills in itself (Royalti TEMP… UPCs)
    #: the provider's OpenAPI says ``format: uri``: only the characters RFC 3986 allows (else percent-encoded)
    strict_uri: bool = False
    #: False: the provider's update cannot empty this field (its OpenAPI takes neither an empty text nor
    #: null there), so a cell that would clear it is refused at plan time (``cannot-clear``)
    clearable: bool = True
    #: a three-way conflict on this field is settled to this side (house rules); None: by --prefer
    prefer: str | None = None
    #: when the field is written (:data:`POLICIES`; house rules)
    policy: str = "overwrite"

    @property
    def is_remote_id(self) -> bool:
        return self.role == "remote_id"

    def as_user_set(self, value: str) -> str:
        """A remote value as the user set it: one the provider filled in on its own (Royalti's
        ``TEMP…`` UPCs, the ``placeholder``) is blank, as a pulled sheet shows it."""
        return "" if self.placeholder and re.search(self.placeholder, value) else value


@dataclass(frozen=True)
class ProtectRule:
    """Records a run never updates and a mirror never deletes: those whose ``field`` is ``value``, or
    matches the regular expression ``pattern`` (``protect`` in house rules)."""

    field: str
    value: str | None = None
    pattern: str | None = None

    def describe(self) -> str:
        return (
            f"{self.field} = {self.value!r}"
            if self.value is not None
            else f"{self.field} matches {self.pattern!r}"
        )


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
    #: records never updated nor deleted (``protect`` in house rules)
    protect: tuple[ProtectRule, ...] = ()
    #: the fields that name a record for a person, in order (`labels` in schema.yaml): a plan, a
    #: run's rows and the review page show the first one filled beside the key
    labels: tuple[str, ...] = ()

    def label_of(self, values: Mapping[str, str]) -> str:
        """What a person calls this record: the first label field filled in ``values`` ('' if none)."""
        return next((str(values[name]) for name in self.labels if values.get(name)), "")

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @cached_property
    def remote_id(self) -> str:  # asked once per remote record: cached (a spec never changes)
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
    _check_attrs(raw, f"{source}: field {raw['name']!r}")
    data = dict(raw)
    data["values"] = tuple(str(v) for v in raw.get("values", ()))
    for key in ("example", "description"):
        data[key] = str(raw.get(key, "")).strip()
    return _checked(FieldSpec(**data), source)


_BOOL_ATTRS = ("required", "case_insensitive", "identifier", "updatable", "strict_uri", "clearable")
_INT_ATTRS = ("min_length", "max_length", "length", "min", "max")
_STYLES = ("one_zero", "true_false")


def _check_attrs(raw: dict[str, Any], where: str) -> None:
    """Refuse attribute values of the wrong kind with a message naming the attribute."""
    for key in _BOOL_ATTRS:
        if key in raw and not isinstance(raw[key], bool):
            raise ConfigError(f"{where}: {key} must be true or false, not {raw[key]!r}")
    for key in _INT_ATTRS:
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{where}: {key} must be a whole number, not {value!r}")
        if key != "min" and key != "max" and value is not None and value < (1 if key == "length" else 0):
            raise ConfigError(f"{where}: {key} must be {'at least 1' if key == 'length' else '0 or more'}")
    if "values" in raw:
        values = raw["values"]
        if not isinstance(values, list) or not values or any(isinstance(v, dict | list) for v in values):
            raise ConfigError(f"{where}: values must be a non-empty list, e.g. [active, inactive]")
    for key in ("pattern", "placeholder"):
        if raw.get(key) is None:
            continue
        if not isinstance(raw[key], str):
            raise ConfigError(f"{where}: {key} must be a regular expression in quotes")
        try:
            re.compile(raw[key])
        except re.error as exc:
            raise ConfigError(
                f"{where}: {key} {raw[key]!r} is not a valid regular expression ({exc})"
            ) from None
    if raw.get("policy") is not None and raw["policy"] not in POLICIES:
        raise ConfigError(f"{where}: policy must be one of {', '.join(POLICIES)}, not {raw['policy']!r}")
    if raw.get("prefer") is not None and raw["prefer"] not in SIDES:
        raise ConfigError(f"{where}: prefer must be one of {', '.join(SIDES)}, not {raw['prefer']!r}")
    if raw.get("style") is not None and raw["style"] not in _STYLES:
        raise ConfigError(f"{where}: style must be one of {', '.join(_STYLES)}, not {raw['style']!r}")
    for key in ("description", "example", "role"):
        if isinstance(raw.get(key), dict | list):
            raise ConfigError(f"{where}: {key} must be text")


def _checked(field: FieldSpec, source: str) -> FieldSpec:
    """Refuse rules that contradict each other (min above max, enum without values)."""
    where = f"{source}: field {field.name!r}"
    if field.min is not None and field.max is not None and field.min > field.max:
        raise ConfigError(f"{where}: min {field.min} is above max {field.max}")
    if field.min_length is not None and field.max_length is not None and field.min_length > field.max_length:
        raise ConfigError(f"{where}: min_length {field.min_length} is above max_length {field.max_length}")
    if field.type == "enum" and not field.values:
        raise ConfigError(f"{where}: an enum needs values, e.g. values: [active, inactive]")
    return field


#: libyaml's safe loader where PyYAML was built with it: the same data, ten times faster (a schema is
#: read several times a run: 29 ms each with the pure-Python loader, 3 ms with this one).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path | Any, source: str) -> dict[str, Any]:
    return _parse_yaml(_read_text(path, source), source)


def _read_text(path: Path | Any, source: str) -> str:
    try:
        return str(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read schema file {source}: {exc}") from exc


def _parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_LOADER)  # a safe loader
    except yaml.YAMLError as exc:
        raise ConfigError(f"schema file {source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"schema file {source} must hold a mapping (provider, keys, fields)")
    return data


def _rules(raw: Any, source: str, known: list[str]) -> tuple[RowRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: rules must be a list, e.g. '- one_of_required: [url, name]'")
    rules = []
    for rule in raw:
        if not isinstance(rule, dict) or "one_of_required" not in rule:
            raise ConfigError(f"{source}: unknown rule {rule!r}; supported: one_of_required")
        names = rule["one_of_required"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{source}: one_of_required needs a list of field names, e.g. [url, name]")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(
                f"{source}: one_of_required names {', '.join(map(repr, unknown))}, not a field; known: "
                f"{', '.join(known)}"
            )
        rules.append(RowRule(tuple(names), str(rule.get("message", ""))))
    return tuple(rules)


def schema_file(name: str) -> tuple[Traversable, str]:
    """The YAML of schema ``name`` and the name to show: ``<provider>`` is the folder's
    ``schema.yaml``, ``<provider>-<sheet>`` (``jogg-videos``) its ``<sheet>.yaml``."""
    from catalog_sync.providers.registry import NAMES

    provider, _, sheet = name.partition("-")
    if provider not in NAMES:
        raise ConfigError(f"no schema for provider {name!r}")
    file = f"{sheet or 'schema'}.yaml"
    return resources.files(f"catalog_sync.providers.{provider}") / file, f"providers/{provider}/{file}"


def load_spec(provider: str, house_rules: list[Path] | tuple[Path, ...] = ()) -> ProviderSpec:
    """Load ``providers/<provider>/schema.yaml`` and apply the user's house-rule files on top.

    The files are read on every call, and the spec made from the same text once a process (a run
    asks for it several times: 14 ms each): a file edited since is always read as it is now."""
    ref, shown = schema_file(provider)
    if not ref.is_file():
        raise ConfigError(f"no schema for provider {provider!r}")
    rules = tuple((str(path), _read_text(Path(path), str(path))) for path in house_rules)
    return _spec_of(provider, _read_text(ref, shown), rules)


@lru_cache(maxsize=32)
def _spec_of(provider: str, text: str, house_rules: tuple[tuple[str, str], ...]) -> ProviderSpec:
    """The spec of schema ``provider`` whose YAML is ``text``, with house rules (path, YAML) applied.

    Shared by every call with the same texts: a :class:`ProviderSpec` is frozen."""
    shown = schema_file(provider)[1]
    spec = _spec_from(_parse_yaml(text, shown), shown, provider)
    for path, rules in house_rules:
        spec = _tightened(spec, Path(path), _parse_yaml(rules, path))
    return spec


def read_spec(ref: Traversable, shown: str, name: str) -> ProviderSpec:
    """The spec in the YAML at ``ref`` (``shown`` names it in messages; ``name``: the default title)."""
    return _spec_from(_read_yaml(ref, shown), shown, name)


def _spec_from(raw: dict[str, Any], shown: str, name: str) -> ProviderSpec:
    fields = tuple(_field_from_dict(f, shown) for f in raw.get("fields", ()))
    names = [f.name for f in fields]
    return ProviderSpec(
        provider=raw["provider"],
        title=raw.get("title", name),
        description=str(raw.get("description", "")).strip(),
        keys=tuple(raw.get("keys", ())),
        fields=fields,
        rules=_rules(raw.get("rules"), shown, names),
        labels=_labels(raw.get("labels"), shown, names),
    )


def _labels(raw: Any, source: str, known: list[str]) -> tuple[str, ...]:
    """The ``labels`` of a schema: field names, in the order they are tried."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(n, str) and n in known for n in raw):
        raise ConfigError(
            f"{source}: labels must be a list of field names, e.g. [title]; known: {', '.join(known)}"
        )
    return tuple(raw)


def apply_house_rules(spec: ProviderSpec, path: Path) -> ProviderSpec:
    """Tighten ``spec`` with a user schema file (fields that exist may only gain rules).

    A house rule that would loosen the provider's own rules (a longer ``max_length``, an
    enum value the API does not take, ``required: false`` on a required field, …) is
    refused: the provider would reject such rows anyway, after validation said they were fine.
    """
    return _tightened(spec, path, _read_yaml(path, str(path)))


def _tightened(spec: ProviderSpec, path: Path, raw: dict[str, Any]) -> ProviderSpec:
    """:func:`apply_house_rules` of the house-rules file at ``path``, read as ``raw``."""
    if raw.get("provider") not in (None, spec.provider):
        raise ConfigError(f"{path}: is a schema for provider {raw['provider']!r}, not {spec.provider!r}")
    entries = raw.get("fields") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: fields must be a list of '- name: FIELD' entries")
    by_name = {f.name: f for f in spec.fields}
    for entry in entries:
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
        fixed = sorted(
            k
            for k in ("type", "role", "style", "updatable", "placeholder")
            if k in entry and entry[k] != getattr(by_name[name], k)
        )
        if fixed:
            raise ConfigError(f"{path}: field {name!r}: house rules cannot change {', '.join(fixed)}")
        _check_attrs(entry, f"{path}: field {name!r}")
        changes = {
            k: v
            for k, v in entry.items()
            if k not in ("name", "type", "role", "style", "updatable", "placeholder")
        }
        if "values" in changes:
            # a subset of the provider's values, spelled as the provider spells them
            spelling = (
                {v.casefold(): v for v in by_name[name].values} if by_name[name].case_insensitive else {}
            )
            changes["values"] = tuple(spelling.get(str(v).casefold(), str(v)) for v in changes["values"])
        new = _checked(replace(by_name[name], **changes), str(path))
        _refuse_loosening(by_name[name], new, f"{path}: field {name!r}")
        by_name[name] = new
    return replace(
        spec,
        fields=tuple(by_name[f.name] for f in spec.fields),
        rules=spec.rules + _rules(raw.get("rules"), str(path), spec.field_names),
        protect=spec.protect + _protect_rules(raw.get("protect"), str(path), spec.field_names),
        house_rules=(*spec.house_rules, str(path)),
    )


def _protect_rules(raw: Any, source: str, known: list[str]) -> tuple[ProtectRule, ...]:
    """``protect: [{field: name, value: X} | {field: name, pattern: REGEX}]`` of a house-rules file."""
    if raw is None:
        return ()
    example = "'- field: name' with 'value: X' or 'pattern: ^MANUAL'"
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: protect must be a list of {example}")
    rules = []
    for entry in raw:
        if not isinstance(entry, dict) or set(entry) - {"field", "value", "pattern"} or "field" not in entry:
            raise ConfigError(f"{source}: each protect entry is {example}, not {entry!r}")
        if entry["field"] not in known:
            raise ConfigError(
                f"{source}: protect names {entry['field']!r}, not a field; known: {', '.join(known)}"
            )
        if ("value" in entry) == ("pattern" in entry):
            raise ConfigError(f"{source}: protect of {entry['field']!r} takes one of value or pattern")
        pattern = entry.get("pattern")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise ConfigError(
                    f"{source}: protect pattern {pattern!r} is not a regular expression ({exc})"
                ) from None
        value = None if "value" not in entry else str(entry["value"])
        rules.append(ProtectRule(str(entry["field"]), value, None if pattern is None else str(pattern)))
    return tuple(rules)


def _refuse_loosening(old: FieldSpec, new: FieldSpec, where: str) -> None:
    """ConfigError when ``new`` accepts a value the provider's own ``old`` rules refuse."""
    why = None
    if old.required and not new.required:
        why = "required: false (the provider requires it)"
    elif old.identifier and not new.identifier:
        why = "identifier: false"
    elif not old.case_insensitive and new.case_insensitive:
        why = "case_insensitive: true"
    elif not old.clearable and new.clearable:
        why = "clearable: true (the provider's update cannot empty this field)"
    elif old.length is not None and new.length != old.length:
        why = f"length {new.length} (the provider's is {old.length})"
    elif old.max_length is not None and (new.max_length is None or new.max_length > old.max_length):
        why = f"max_length {new.max_length} (the provider allows at most {old.max_length})"
    elif old.min_length is not None and (new.min_length is None or new.min_length < old.min_length):
        why = f"min_length {new.min_length} (the provider needs at least {old.min_length})"
    elif old.max is not None and (new.max is None or new.max > old.max):
        why = f"max {new.max} (the provider allows at most {old.max})"
    elif old.min is not None and (new.min is None or new.min < old.min):
        why = f"min {new.min} (the provider needs at least {old.min})"
    elif old.pattern is not None and new.pattern != old.pattern:
        why = "a different pattern"
    elif old.values:
        allowed = {v.casefold() for v in old.values} if old.case_insensitive else set(old.values)
        extra = [v for v in new.values if (v.casefold() if old.case_insensitive else v) not in allowed]
        if extra:
            why = f"values {', '.join(map(repr, extra))} the provider does not take (it takes {', '.join(old.values)})"
    if why:
        raise ConfigError(f"{where}: house rules may only tighten the provider's rules, not set {why}")
