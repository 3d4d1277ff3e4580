"""Our provider spec as a Frictionless Table Schema, so ``frictionless validate`` checks the same rules.

Generated from :mod:`catalog_sync.spec.model` (the single source of truth) for the columns a file
has, in the file's order.  What Table Schema can say is said: required, length, min/max
length, pattern, enumerations (case-insensitive ones as a ``(?i:…)`` pattern), integer
ranges, real ISO dates, booleans with our accepted words, and ``unique`` on the match keys
(our ``duplicate-key`` check).  What it cannot say is listed by :func:`not_expressible`
(GS1 check digits, ``one_of_required`` row rules): frictionless is therefore given slightly
*less* work than ours, never more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from catalog_sync.spec import FieldSpec, ProviderSpec
from catalog_sync.spec.normalise import FALSE_WORDS, TRUE_WORDS


def table_schema(spec: ProviderSpec, columns: Sequence[str]) -> dict[str, Any]:
    """The Table Schema of ``spec`` for a file whose header is ``columns``."""
    fields = [
        field_schema(spec.field(name), unique=name in spec.keys)
        if name in spec.field_names
        else {"name": name, "type": "string"}
        for name in columns
    ]
    return {"fields": fields, "missingValues": [""]}


def field_schema(field: FieldSpec, *, unique: bool = False) -> dict[str, Any]:
    """One Table Schema field for one spec field."""
    out: dict[str, Any] = {"name": field.name, "type": "string"}
    constraints: dict[str, Any] = {}
    if field.required:
        constraints["required"] = True
    if unique:
        constraints["unique"] = True
    kind = field.type
    if kind == "integer":
        out["type"] = "integer"
        _put(constraints, minimum=field.min, maximum=field.max)
    elif kind == "boolean":
        out.update(type="boolean", trueValues=_spellings(TRUE_WORDS), falseValues=_spellings(FALSE_WORDS))
    elif kind == "date":
        out["type"] = "date"  # ISO YYYY-MM-DD, a real calendar date
    elif kind == "url":
        constraints["pattern"] = r"https?://\S+"
    elif kind == "gtin":
        constraints["pattern"] = f"[0-9]{{{field.length}}}" if field.length else "[0-9]{8}|[0-9]{12,14}"
    elif kind == "enum" and field.case_insensitive:
        constraints["pattern"] = "(?i:" + "|".join(re.escape(v) for v in field.values) + ")"
    elif kind == "enum":
        constraints["enum"] = list(field.values)
    if kind in ("string", "url", "list", "media", "enum"):
        _put(constraints, minLength=field.min_length, maxLength=field.max_length)
        if field.length is not None:
            constraints.update(minLength=field.length, maxLength=field.length)
        if field.pattern is not None:
            constraints["pattern"] = field.pattern
    if constraints:
        out["constraints"] = constraints
    return out


def not_expressible(spec: ProviderSpec, columns: Sequence[str]) -> list[str]:
    """The rules of ours that the Table Schema leaves out, for the figure's note."""
    missing = [
        f"{name}: GS1 check digit"
        for name in columns
        if name in spec.field_names and spec.field(name).type == "gtin"
    ]
    missing += [f"one of {', '.join(rule.one_of_required)} filled" for rule in spec.rules]
    return missing


def _put(constraints: dict[str, Any], **values: int | None) -> None:
    constraints.update({k: v for k, v in values.items() if v is not None})


def _spellings(words: Sequence[str]) -> list[str]:
    return sorted({form for w in words for form in (w, w.upper(), w.capitalize())})
