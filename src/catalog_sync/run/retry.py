"""``apply --only failed --from REPORT``: the rows a report says were not done, to send again.

With a catalog too, those rows are taken from the catalog as it is now (matched by their key, else
by their row number), so corrections made since are what is sent; without one, the values the
report holds are sent, and the plan says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from catalog_sync.errors import InvalidCatalogError
from catalog_sync.planning.model import CarriedDeletes
from catalog_sync.problems import Problem
from catalog_sync.run.report import catalog_from_report, unfinished_deletes
from catalog_sync.run.requests import ApplyRequest
from catalog_sync.sheets.loader import load_sheet
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec, load_spec
from catalog_sync.spec.normalise import normalise_frame, normalise_value
from catalog_sync.validation.gate import validate_loaded

__all__ = ["Retry", "retry_source"]


@dataclass
class Retry:
    """The rows to retry, the spec they are checked with, where they came from, and what to say."""

    sheet: Sheet
    spec: ProviderSpec
    catalog: str
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    carried: CarriedDeletes | None = None


def retry_source(request: ApplyRequest) -> Retry:
    """``--only failed --from REPORT``: the rows the report says were not done.

    With a catalog too, those rows are taken from the catalog as it is now (matched by their key,
    else by their row number), so corrections made since are what is sent; without one, the values
    the report holds are sent, and the plan says so."""
    provider = request.target.provider
    assert request.from_report is not None
    spec = load_spec(provider)
    mapping = request.read.mapping
    retry = catalog_from_report(request.from_report, spec, mapping)
    deletes = unfinished_deletes(request.from_report, spec, mapping)
    if not request.source:
        try:
            checked = validate_loaded(retry, spec)
        except InvalidCatalogError as exc:
            raise InvalidCatalogError(
                _report_hint(exc.message, retry, provider, mapping), **exc.context
            ) from None
        note = (
            f"retrying {len(retry.data)} row(s) with the values recorded in {request.from_report}; give the "
            "catalog too (apply CATALOG --only failed --from REPORT) to retry them with its current values"
        )
        carried = _carried(request, deletes, None, spec)
        return Retry(
            retry, spec, str(request.from_report), checked.warnings, [note, *_carry_note(carried)], carried
        )
    catalog, spec = _load_for_retry(request)
    rows, missing = _rows_of(retry, catalog, spec)
    chosen = _subset(catalog, rows)
    checked = validate_loaded(
        chosen,
        spec,
        ignore_unknown_columns=request.ignore_unknown_columns,
        date_format=request.read.date_format,
    )
    notes = [
        f"retrying {len(rows)} row(s) of {request.from_report} with their current values from {request.source}"
    ]
    if missing:
        shown = ", ".join(missing[:10]) + (", …" if len(missing) > 10 else "")
        notes.append(
            f"{len(missing)} row(s) of the report are no longer in the catalog and are not retried: {shown}"
        )
    carried = _carried(request, deletes, catalog, spec)
    return Retry(
        chosen, spec, str(request.source), checked.warnings, [*notes, *_carry_note(carried)], carried
    )


def _carried(
    request: ApplyRequest, deletes: dict[str, dict[str, str]], catalog: Sheet | None, spec: ProviderSpec
) -> CarriedDeletes | None:
    """The report's unfinished deletes, with the key values the whole catalog names (when given)."""
    if not deletes:
        return None
    named: dict[str, set[str]] = {}
    if catalog is not None:
        keys = [k for k in spec.keys if k in catalog.data.columns]
        canonical = normalise_frame(catalog.data[keys].astype(object).fillna(""), spec)
        named = {key: set(canonical[key][canonical[key].ne("")].astype(str)) for key in keys}
    return CarriedDeletes(str(request.from_report), deletes, named)


def _carry_note(carried: CarriedDeletes | None) -> list[str]:
    if carried is None:
        return []
    return [
        f"carrying {len(carried.records)} delete(s) the mirror run of {carried.report} left undone "
        "(each needs --max-deletes; one a row names, or changed since, is not deleted)"
    ]


def _load_for_retry(request: ApplyRequest) -> tuple[Sheet, ProviderSpec]:
    """The catalog read, not yet validated: only the rows that are retried are (``validate_loaded``)."""
    assert request.source is not None
    spec = load_spec(request.target.provider, request.read.house_rule_paths())
    return load_sheet(request.source, known_fields=spec.field_names, **request.read.sheet_kwargs()), spec


def _rows_of(retry: Sheet, catalog: Sheet, spec: ProviderSpec) -> tuple[list[int], list[str]]:
    """Catalog row numbers of the report's rows (by their first filled key, else by row number)."""
    keys = [k for k in spec.keys if k in catalog.data.columns]
    canonical = normalise_frame(catalog.data[keys].astype(object).fillna(""), spec)
    index: dict[tuple[str, str], int] = {}
    for key in keys:  # one vectorised pass per key column: value -> its first row
        column = canonical[key][canonical[key].ne("")]
        first = column[~column.duplicated()]
        index.update(((key, str(v)), int(str(r))) for r, v in first.items())
    rows: list[int] = []
    missing: list[str] = []
    for row, values in retry.data.iterrows():
        keyed = [
            (k, normalise_value(str(values[k]), spec.field(k)))
            for k in spec.keys
            if k in retry.data.columns and str(values[k]).strip()
        ]
        found = next((index[k] for k in keyed if k in index), None)
        if found is None and not keyed and int(str(row)) in catalog.data.index:
            found = int(str(row))
        if found is None:
            missing.append(f"row {row}" + (f" ({keyed[0][0]}={keyed[0][1]})" if keyed else ""))
        elif found not in rows:
            rows.append(found)
    return sorted(rows), missing


def _subset(sheet: Sheet, rows: list[int]) -> Sheet:
    """The sheet with only ``rows`` (original row numbers kept)."""
    return replace(
        sheet,
        data=sheet.data.loc[rows],
        kinds=None if sheet.kinds is None else sheet.kinds.loc[rows],
        ignored=None if sheet.ignored is None else sheet.ignored.loc[rows],
        problems=[p for p in sheet.problems if p.row is None or p.row in rows],
    )


def _report_hint(message: str, sheet: Sheet, provider: str, mapping: str | None) -> str:
    """An invalid report read back: say which columns were not fields, and the --mapping to pass."""
    unknown = [p.value for p in sheet.problems if p.code == "unknown-column" and p.value]
    if not unknown:
        return message
    shown = ", ".join(repr(c) for c in unknown[:4]) + (", …" if len(unknown) > 4 else "")
    fix = "check the --mapping" if mapping else "pass the --mapping the catalog was applied with"
    return f"{message} The report's columns {shown} are not fields of {provider}: {fix}."
