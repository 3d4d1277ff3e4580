"""Validate request bodies against the providers' published OpenAPI documents.

The documents live in each provider's folder, ``catalog_sync/providers/<name>/openapi/*.yaml``.  :func:`request_validator` resolves
the ``requestBody`` schema of one operation (inlining ``$ref``) and returns a function that
lists the problems of a body as :class:`BodyProblem` (dotted field path + message), in the
order the schema declares its properties, so an emulator can answer the way its provider
does (jogg: the first one as ``Parameter error: ...``; royalti: all as ``details``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, cast

import yaml
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError

__all__ = ["BodyProblem", "component_schema", "load_request_schema", "request_validator", "schema_validator"]


@dataclass(frozen=True)
class BodyProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} {self.message}" if self.field else self.message


@functools.cache
def _document(name: str) -> dict[str, Any]:
    provider = name.partition("-")[0]  # jogg-create-product.yaml: in providers/jogg/openapi/
    folder = resources.files(f"catalog_sync.providers.{provider}") / "openapi"
    text = folder.joinpath(name).read_text(encoding="utf-8")
    return cast(dict[str, Any], yaml.safe_load(text))


def _resolve(node: Any, doc: dict[str, Any], depth: int = 0) -> Any:
    if depth > 50:
        raise ValueError("$ref nesting too deep")
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, doc, depth + 1)
        return {k: _resolve(v, doc, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, doc, depth + 1) for v in node]
    return node


def load_request_schema(
    document: str, path: str, method: str, content_type: str = "application/json"
) -> dict[str, Any]:
    """The resolved JSON schema of ``method path``'s request body in ``document``."""
    doc = _document(document)
    op = doc["paths"][path][method.lower()]
    return cast(dict[str, Any], _resolve(op["requestBody"]["content"][content_type]["schema"], doc))


def component_schema(document: str, name: str) -> dict[str, Any]:
    """The resolved ``components/schemas/<name>`` of ``document``."""
    doc = _document(document)
    return cast(dict[str, Any], _resolve(doc["components"]["schemas"][name], doc))


def _order(schema: dict[str, Any]) -> list[str]:
    """Property names in declaration order (following allOf)."""
    names: list[str] = list(schema.get("required", []))
    names += list(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        names += _order(sub)
    return list(dict.fromkeys(names))


def _describe(error: ValidationError) -> BodyProblem:
    path = ".".join(str(p) for p in error.absolute_path)
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return BodyProblem(f"{path}.{missing}" if path else missing, "is required")
    if v == "type":
        return BodyProblem(path, f"must be of type {error.validator_value}")
    if v == "enum":
        return BodyProblem(path, "must be one of " + ", ".join(str(x) for x in error.validator_value))
    if v == "pattern":
        return BodyProblem(path, f"must match pattern {error.validator_value}")
    if v == "maxLength":
        return BodyProblem(path, f"must be at most {error.validator_value} characters")
    if v == "minLength":
        return BodyProblem(path, f"must be at least {error.validator_value} characters")
    if v == "minimum":
        return BodyProblem(path, f"must be >= {error.validator_value}")
    if v == "maximum":
        return BodyProblem(path, f"must be <= {error.validator_value}")
    if v == "format":
        return BodyProblem(path, f"must be a valid {error.validator_value}")
    if v in ("oneOf", "anyOf"):
        return BodyProblem(path, "does not match any allowed form")
    return BodyProblem(path, error.message)


def request_validator(
    document: str, path: str, method: str, content_type: str = "application/json"
) -> Callable[[Any], list[BodyProblem]]:
    """A function returning the problems of a request body (empty list = valid)."""
    return schema_validator(load_request_schema(document, path, method, content_type))


# The formats the published schemas use.  "date-time" needs rfc3339-validator and "uri"
# rfc3986-validator (declared dependencies); asking FormatChecker for a format whose checker is
# missing raises KeyError.
_FORMATS = FormatChecker([f for f in ("date", "date-time", "uuid", "uri") if f in FormatChecker.checkers])


def schema_validator(schema: dict[str, Any]) -> Callable[[Any], list[BodyProblem]]:
    """A function returning the problems of a body against a resolved schema, in declaration order."""
    validator = Draft4Validator(schema, format_checker=_FORMATS)
    order = {name: i for i, name in enumerate(_order(schema))}

    def rank(p: BodyProblem) -> tuple[int, str]:
        return (order.get(p.field.split(".")[0], len(order)), p.field)

    def check(body: Any) -> list[BodyProblem]:
        if not isinstance(body, dict):
            return [BodyProblem("", "request body must be a JSON object")]
        problems = {_describe(e) for e in validator.iter_errors(body)}
        return sorted(problems, key=rank)

    return check
