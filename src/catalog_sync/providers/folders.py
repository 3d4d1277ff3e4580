"""Is a provider folder whole?  Each piece a folder needs, checked and named when missing.

The provider suite runs :func:`missing_pieces` on every registered folder
(tests/providers/test_provider_folders.py), so a new provider that lacks a piece fails by name
before its contract tests run.
"""

from __future__ import annotations

import importlib
import inspect
from importlib import resources
from typing import Any

from catalog_sync.providers.info import Contract, ProviderInfo, _load

__all__ = ["missing_pieces"]


def missing_pieces(package: str) -> list[str]:
    """What the provider folder ``package`` (an import name) lacks, each piece named; [] when whole.

    A folder is whole when it imports; its ``INFO`` is a :class:`ProviderInfo` named after the
    folder; its client class is a concrete :class:`~catalog_sync.providers.base.Provider`; its
    emulator class is a sandbox :class:`~catalog_sync.sandbox.base.Emulator`; its ``schema.yaml``
    loads as a spec of that provider; every ``openapi/*.yaml`` is an OpenAPI document; and its
    ``contract.py`` gives the contract suite a :class:`~catalog_sync.providers.info.Contract`.
    """
    try:
        module = importlib.import_module(package)
    except Exception as exc:  # what a broken folder raises is anyone's guess
        return [f"the package {package} cannot be imported: {exc}"]
    info = getattr(module, "INFO", None)
    if not isinstance(info, ProviderInfo):
        return [f"INFO: {package}/__init__.py must define INFO, a ProviderInfo"]
    folder = package.rpartition(".")[2]
    missing = [] if info.name == folder else [f"INFO: named {info.name!r}, not {folder!r} like its folder"]
    return missing + [
        problem
        for check in (_client_piece, _emulator_piece, _schema_piece, _openapi_piece, _contract_piece)
        for problem in check(package, info)
    ]


def _loaded(target: str, piece: str) -> tuple[Any, list[str]]:
    try:
        return _load(target), []
    except Exception as exc:
        return None, [f"{piece}: {target} cannot be loaded: {exc}"]


def _client_piece(package: str, info: ProviderInfo) -> list[str]:
    from catalog_sync.providers.base import Provider

    klass, problems = _loaded(info.client, "client")
    if klass is None:
        return problems
    if not (isinstance(klass, type) and issubclass(klass, Provider)) or inspect.isabstract(klass):
        return [f"client: {info.client} is not a concrete Provider"]
    return []


def _emulator_piece(package: str, info: ProviderInfo) -> list[str]:
    from catalog_sync.sandbox.base import Emulator

    klass, problems = _loaded(info.emulator, "emulator")
    if klass is None:
        return problems
    return (
        []
        if isinstance(klass, type) and issubclass(klass, Emulator)
        else [f"emulator: {info.emulator} is not an Emulator"]
    )


def _schema_piece(package: str, info: ProviderInfo) -> list[str]:
    from catalog_sync.spec.model import read_spec

    ref = resources.files(package) / "schema.yaml"
    if not ref.is_file():
        return [f"schema: {package}/schema.yaml is missing"]
    try:
        spec = read_spec(ref, f"{package}/schema.yaml", info.name)
    except Exception as exc:
        return [f"schema: {package}/schema.yaml does not load: {exc}"]
    return (
        []
        if spec.provider == info.name
        else [f"schema: {package}/schema.yaml is for {spec.provider!r}, not {info.name!r}"]
    )


def _openapi_piece(package: str, info: ProviderInfo) -> list[str]:
    folder = resources.files(package) / "openapi"
    documents = [d for d in folder.iterdir() if d.name.endswith(".yaml")] if folder.is_dir() else []
    return [problem for document in documents for problem in _openapi_problems(package, document)]


def _openapi_problems(package: str, document: Any) -> list[str]:
    import yaml

    where = f"openapi: {package}/openapi/{document.name}"
    try:
        parsed = yaml.safe_load(document.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError) as exc:
        return [f"{where} does not parse: {exc}"]
    return [] if isinstance(parsed, dict) and "openapi" in parsed else [f"{where} is not an OpenAPI document"]


def _contract_piece(package: str, info: ProviderInfo) -> list[str]:
    contract, problems = _loaded(f"{package}.contract:CONTRACT", "contract")
    if contract is None:
        return problems
    return (
        [] if isinstance(contract, Contract) else [f"contract: {package}.contract.CONTRACT is not a Contract"]
    )
