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

__all__ = [
    "DATE_FORMATS",
    "LocalColumn",
    "LocalDates",
    "check_date_format",
    "local_date_iso",
    "read_local_dates",
]

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
    for spec_field in date_fields(sheet, spec):
        if date_format is not None:
            rewrite_local_dates(sheet, spec_field.name, date_format)
            continue
        column = LocalColumn(spec_field.name)
        column.add(sheet, fixes=True)
        problem = column.finding(sheet)
        if problem is not None:
            found.problems.append(problem)
            found.columns.add(spec_field.name)
    return found


def rewrite_local_dates(sheet: Sheet, name: str, date_format: str) -> None:
    """The cells of column ``name`` written in ``date_format``, as ISO dates (in place)."""
    values = sheet.data[name].astype(str)
    isos = _isos(values, date_format)
    hit = isos.notna().to_numpy()
    if hit.any():
        sheet.data.loc[hit, name] = isos[hit].to_numpy()


def date_fields(sheet: Sheet, spec: ProviderSpec) -> list[FieldSpec]:
    """The date columns of ``sheet`` that may be written in a local form."""
    return [f for f in spec.fields if f.type == "date" and not f.identifier and f.name in sheet.data.columns]


_HEAD = 100  # the first values the examples of a finding are taken from


@dataclass
class LocalColumn:
    """The values of one date column that are no ISO date, gathered from a whole sheet or chunk by
    chunk (rows in order): how many, the first, the forms every one of them fits, and (``fixes``)
    each as its ISO date in the one form that fits."""

    name: str
    count: int = 0
    first_row: int = 0
    first_value: str = ""
    head: list[str] = field(default_factory=list)
    fits: list[str] = field(default_factory=lambda: list(DATE_FORMATS))
    fixes: dict[str, list[tuple[str, int, str, str]]] = field(default_factory=dict)

    def add(self, sheet: Sheet, *, fixes: bool = False) -> None:
        """Take in the column's cells of ``sheet`` (cells are trimmed)."""
        values = sheet.data[self.name].astype(str)
        local = values[(values != "").to_numpy() & ~iso_dates_ok(values).to_numpy()]
        if not len(local) or not self.fits:
            return
        if not self.count:
            self.first_row, self.first_value = int(local.index[0]), str(local.iloc[0])
        self.count += len(local)
        self.head += local.head(_HEAD - len(self.head)).tolist()
        still = []
        for form in self.fits:
            isos = _isos(local, form)
            if not isos.notna().all():
                continue
            still.append(form)
            if fixes:
                self.fixes.setdefault(form, []).extend(
                    (sheet.cell(int(row), self.name), int(row), str(old), str(iso))
                    for row, old, iso in zip(local.index.tolist(), local.tolist(), isos.tolist(), strict=True)
                )
        self.fits = still

    def finding(self, sheet: Sheet) -> Problem | None:
        """The one problem of the column when its non-ISO values all read as dates in one or two forms."""
        if not self.count or not self.fits:
            return None
        name, count = self.name, self.count
        shown = ", ".join(list(dict.fromkeys(v.strip() for v in self.head))[:_EXAMPLES])
        cells = f"{count:,} date{'' if count == 1 else 's'}"
        if len(self.fits) == 1:
            form = self.fits[0]
            message = (
                f"{name}: {cells} are written {form} ({shown}), not YYYY-MM-DD; pass --date-format {form} "
                f"(job key date_format) to read them as dates, or `validate --fix -o FIXED` writes them as YYYY-MM-DD"
            )
            extra: dict[str, object] = {"format": form}
            if form in self.fixes:
                extra["fixes"] = self.fixes[form]
        else:
            forms = " or ".join(self.fits)
            options = " or ".join(f"--date-format {form}" for form in self.fits)
            message = (
                f"{name}: {cells} could be written {forms} ({shown}: no day is above 12, so the form cannot be "
                f"told); pick the one they are written in with {options} (job key date_format), or write them "
                "YYYY-MM-DD"
            )
            extra = {"formats": list(self.fits)}
        return Problem(
            code="local-date-format",
            message=message,
            sheet=sheet.display_name,
            cell=sheet.cell(self.first_row, name),
            row=self.first_row,
            column=name,
            value=self.first_value,
            extra=extra,
        )
