"""Dates written the local way (``07/17/2020``, ``17.07.2020``) in the date columns of a catalog.

With ``--date-format`` (job key ``date_format``; :data:`~catalog_sync.config.defaults.DATE_FORMATS`)
:func:`read_local_dates` rewrites each cell of a ``type: date`` column written in that form to its
ISO date before any check runs, so validation, plan and apply see (and send) ``2020-07-17``.  A cell
that is no real date in that form (``02/30/2024``) is left as it is: the date check reports it.

Without it, a date column whose every filled value that is not an ISO date reads as a real date in
one local form gets one ``local-date-format`` error naming ``--date-format`` and the form, instead of
one ``bad-format`` per cell; its ``extra["fixes"]`` are the cells as ISO dates, which
``validate --fix`` writes.  When two forms fit every value (no day above 12: ``03/04/2024``), the
one finding says so and asks to pick one; nothing is fixed.  A column where some value fits no form
keeps its per-cell ``bad-format`` problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from catalog_sync.config.defaults import DATE_FORMATS
from catalog_sync.errors import ConfigError
from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import FieldSpec, ProviderSpec
from catalog_sync.spec.values import iso_dates_ok

__all__ = ["DATE_FORMATS", "LocalDates", "check_date_format", "local_date_iso", "read_local_dates"]

#: An optional time of day after the date (``7/17/2020 0:00``, ``17.07.2020 14:30:00``, ``… 2:30 PM``): dropped.
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?)?"
_DAY_MONTH = r"(\d{1,2})/(\d{1,2})/(\d{4})"
#: Each form: its pattern, and the order of year, month and day in its groups.
_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "MM/DD/YYYY": (re.compile(_DAY_MONTH + _TIME), "mdy"),
    "DD/MM/YYYY": (re.compile(_DAY_MONTH + _TIME), "dmy"),
    "DD.MM.YYYY": (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME), "dmy"),
    "YYYY/MM/DD": (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})" + _TIME), "ymd"),
}
assert tuple(_FORMS) == DATE_FORMATS
_EXAMPLES = 3


def check_date_format(value: str) -> str:
    """The form as spelt in :data:`DATE_FORMATS` (case does not matter); ConfigError for another."""
    for form in DATE_FORMATS:
        if form.casefold() == value.strip().casefold():
            return form
    raise ConfigError(f"unknown date format {value!r}; use one of {', '.join(DATE_FORMATS)}")


def local_date_iso(text: str, form: str) -> str | None:
    """The ISO date of ``text`` written in ``form`` (``"7/4/2024"``, MM/DD/YYYY → ``"2024-07-04"``);
    None when it is not written so or is no real date."""
    pattern, order = _FORMS[form]
    match = pattern.fullmatch(text.strip())
    if match is None:
        return None
    parts = dict(zip(order, (int(g) for g in match.groups()[:3]), strict=True))
    try:
        return date(parts["y"], parts["m"], parts["d"]).isoformat()
    except ValueError:  # month 13, February 30, year 0
        return None


def _isos(values: pd.Series, form: str) -> pd.Series:
    """:func:`local_date_iso` of each value (None where it is none), once per distinct value."""
    codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=False)
    found = np.array([local_date_iso(str(u), form) for u in uniques] + [None], dtype=object)
    return pd.Series(found[codes] if len(codes) else found[:0], index=values.index, dtype=object)


@dataclass
class LocalDates:
    """What :func:`read_local_dates` found: its problems, and the date columns those problems stand
    for (their per-cell ``bad-format`` problems are left out)."""

    problems: list[Problem] = field(default_factory=list)
    columns: set[str] = field(default_factory=set)


def read_local_dates(sheet: Sheet, spec: ProviderSpec, date_format: str | None = None) -> LocalDates:
    """Under ``date_format``, rewrite its dates to ISO in place (nothing to report); without it, one
    finding per date column written in a local form (see the module's docs)."""
    found = LocalDates()
    date_format = None if date_format is None else check_date_format(date_format)
    for spec_field in _date_fields(sheet, spec):
        values = sheet.data[spec_field.name].astype(str)
        if date_format is not None:
            isos = _isos(values, date_format)
            hit = isos.notna().to_numpy()
            if hit.any():
                sheet.data.loc[hit, spec_field.name] = isos[hit].to_numpy()
            continue
        local = values[(values != "").to_numpy() & ~iso_dates_ok(values).to_numpy()]  # cells are trimmed
        problem = _column_finding(sheet, spec_field, local) if len(local) else None
        if problem is not None:
            found.problems.append(problem)
            found.columns.add(spec_field.name)
    return found


def _date_fields(sheet: Sheet, spec: ProviderSpec) -> list[FieldSpec]:
    return [f for f in spec.fields if f.type == "date" and not f.identifier and f.name in sheet.data.columns]


def _column_finding(sheet: Sheet, spec_field: FieldSpec, local: pd.Series) -> Problem | None:
    """The one problem of a column whose non-ISO values all read as dates in one or two local forms."""
    fits = {form: isos for form in DATE_FORMATS if (isos := _isos(local, form)).notna().all()}
    if not fits:
        return None
    name, count = spec_field.name, len(local)
    first = int(local.index[0])
    shown = ", ".join(list(dict.fromkeys(local.head(100).str.strip()))[:_EXAMPLES])
    cells = f"{count:,} date{'' if count == 1 else 's'}"
    if len(fits) == 1:
        form, isos = next(iter(fits.items()))
        message = (
            f"{name}: {cells} are written {form} ({shown}), not YYYY-MM-DD; pass --date-format {form} "
            f"(job key date_format) to read them as dates, or `validate --fix -o FIXED` writes them as YYYY-MM-DD"
        )
        fixes = [
            (sheet.cell(int(row), name), int(row), str(old), str(iso))
            for row, old, iso in zip(local.index.tolist(), local.tolist(), isos.tolist(), strict=True)
        ]
        extra: dict[str, object] = {"format": form, "fixes": fixes}
    else:
        forms = " or ".join(fits)
        options = " or ".join(f"--date-format {form}" for form in fits)
        message = (
            f"{name}: {cells} could be written {forms} ({shown}: no day is above 12, so the form cannot be "
            f"told); pick the one they are written in with {options} (job key date_format), or write them "
            "YYYY-MM-DD"
        )
        extra = {"formats": list(fits)}
    return Problem(
        code="local-date-format",
        message=message,
        sheet=sheet.display_name,
        cell=sheet.cell(first, name),
        row=first,
        column=name,
        value=str(local.iloc[0]),
        extra=extra,
    )
