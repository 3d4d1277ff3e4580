"""Export what the provider holds (for JoggAI: what the ledger knows) as a catalog sheet.

The sheet has exactly the columns ``apply`` takes, in template order, the provider's own id
column filled so every row matches its record, every cell stored as text (leading zeros, long
ids, ``NA``, ``=SUM(A1)`` and ISO dates stay as they are), a frozen bold header, the template's
dropdowns and header notes.  A CSV has no text cells: a value a spreadsheet would run as a
formula (``=SUM(1)``, ``-5 off``, ``@x``) gets the reports' ``'`` guard (``sheets.guard``), which
the CSV reader takes off again, so the pulled CSV read back unchanged plans nothing.  A workbook (xlsx, ods) also carries the hidden sheet
``_catalog_sync`` with the *base*: the provider, the base URL (never a credential), the time
of the pull, and each record's remote id with the values as pulled, for a three-way merge.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from catalog_sync.errors import ConfigError
from catalog_sync.planning.merge_base import BASE_FORMAT, BASE_SHEET
from catalog_sync.remote.read import read_remote
from catalog_sync.run.lifecycle import open_run
from catalog_sync.run.target import Target, run_inputs
from catalog_sync.sheets.guard import neutralise
from catalog_sync.sheets.write import pulled_ods as ods
from catalog_sync.sheets.write import pulled_xlsx as xlsx
from catalog_sync.sheets.write.pulled import Pulled
from catalog_sync.sheets.write.report import atomic_target, check_new_file, check_output
from catalog_sync.sheets.write.text_table import write_csv
from catalog_sync.spec import ProviderSpec
from catalog_sync.state import UNSURE, public_base_url

__all__ = ["BASE_SHEET", "FORMATS", "PullOutcome", "PullRequest", "Pulled", "run_pull", "sheet_values"]

FORMATS = (".xlsx", ".ods", ".csv")


@dataclass(frozen=True)
class PullRequest:
    target: Target
    out: Path
    sheet: str = "Products"
    force: bool = False  # overwrite ``out`` when it exists (else: refused, exit 2)


@dataclass
class PullOutcome:
    path: Path
    records: int
    provider: str
    base_url: str
    exit_code: int = 0
    #: what the ledger had to say (rows written before accounts, adopted by this key's account)
    notes: list[str] = field(default_factory=list)


def run_pull(request: PullRequest) -> PullOutcome:
    """Read what the provider holds and write it to ``request.out`` (.xlsx, .ods or .csv)."""
    target, out = request.target, Path(request.out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"pull writes {', '.join(FORMATS)}; {out.name} is none of them")
    check_new_file(out, force=request.force, what="pulled sheet")
    check_output(out, run_inputs(state=target.state), what="pulled sheet")
    client = target.connect()
    with open_run(target, client, "pull", source=str(out)) as run:
        run.undone = "nothing was written"
        records, _view = read_remote(client, run.ledger)
        pulled = _sheet(client.spec, records, client.base_url)
        _write(pulled, out, request.sheet)
        failed = run.finish(counts={"pulled": len(records)}, exit_code=0)
        if failed is not None:
            raise failed
        notes = list(run.ledger.notes)
    return PullOutcome(out, len(records), target.provider, public_base_url(client.base_url), notes=notes)


def _sheet(spec: ProviderSpec, records: Sequence[Any], base_url: str) -> Pulled:
    columns = list(spec.field_names)
    # the provider's own order (creation time; JoggAI: the order the ledger learnt them)
    rows = [list(sheet_values(spec, record).values()) for record in records]
    meta = [
        ("format", BASE_FORMAT),
        ("provider", spec.provider),
        ("base_url", public_base_url(base_url)),
        ("pulled_at", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")),
        ("records", str(len(rows))),
    ]
    return Pulled(spec, columns, rows, meta)


def sheet_values(spec: ProviderSpec, record: Any) -> dict[str, str]:
    """A record's values as a pulled sheet shows them, in template order (its id in the id column)."""
    values = {name: _cell(spec, name, record.fields.get(name)) for name in spec.field_names}
    values[spec.remote_id] = str(record.remote_id)
    return values


def _cell(spec: ProviderSpec, name: str, value: Any) -> str:
    """A record's value as the sheet shows it: a value the provider filled in on its own (Royalti's
    ``TEMP…`` UPCs, the field's ``placeholder``) is left blank, as the user never set it."""
    text = "" if value is None else str(value)
    return "" if text == UNSURE else spec.field(name).as_user_set(text)


def _write(pulled: Pulled, out: Path, sheet: str) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(out) as temp:
            suffix = out.suffix.lower()
            if suffix == ".csv":  # guarded as reports are: a spreadsheet opening it runs no formula
                guarded = [[neutralise(value) for value in row] for row in pulled.rows]
                write_csv(pd.DataFrame(guarded, columns=pulled.columns, dtype=object), temp)
            elif suffix == ".xlsx":
                xlsx.write(pulled, temp, sheet, BASE_SHEET)
            else:
                ods.write(pulled, temp, sheet, BASE_SHEET)
    except OSError as exc:
        raise ConfigError(f"cannot write the pulled sheet to {out}: {exc.strerror or exc}") from exc
