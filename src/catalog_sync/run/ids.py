"""``apply --write-ids OUT``: which rows get their id, and the checks made before anything is sent.

A row gets the provider's id when its outcome is ``ok`` and it was created, updated or matched
unchanged; a row that failed, conflicted, was skipped or is unknown gets none.  The copy is
written by :func:`catalog_sync.sheets.write.ids.write_ids`; the input file is never modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from catalog_sync.errors import ConfigError, OutputRefusedError
from catalog_sync.execute.executor import RunResult
from catalog_sync.planning.model import is_plan_file
from catalog_sync.sheets.mapping import load_mapping
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.sheets.write.ids import IdsCopy, write_ids
from catalog_sync.sheets.write.report import check_new_file, check_output, same_file
from catalog_sync.spec import ProviderSpec

__all__ = ["check_ids_target", "ids_of", "write_ids_copy"]

#: Actions whose row, once ``ok``, is known to be the record the id names.
_MATCHED = ("create", "update", "unchanged")


def check_ids_target(
    out: Path,
    *,
    source: str | None,
    from_report: str | None,
    inputs: Sequence[tuple[str, str | Path | None]],
    report: Path | None,
    force: bool,
) -> None:
    """OutputRefusedError (exit 2, nothing read or sent): ``--write-ids`` needs a catalog (not a
    saved plan or ``--from REPORT``), never names an input (not even with ``--force``) or the
    report, and overwrites an existing file only with ``--force``."""
    if from_report or not source or is_plan_file(source):
        raise OutputRefusedError(
            "--write-ids writes a copy of the catalog a run reads; give the CATALOG itself (not a saved plan "
            "or --from REPORT). Nothing was read or sent."
        )
    try:
        check_output(out, inputs, what="copy with ids")
    except ConfigError as exc:  # an input named as the output is a usage error here (exit 2)
        raise OutputRefusedError(exc.message) from None
    if report is not None and same_file(out, report):
        raise OutputRefusedError(
            f"--write-ids {out} is also the --report; name another file. Nothing was sent."
        )
    check_new_file(out, force=force, what="copy with ids")


def ids_of(result: RunResult) -> dict[int, str]:
    """{original row number: id} of the rows created or matched (status ``ok``)."""
    ids: dict[int, str] = {}
    for outcome in result.outcomes:
        change = outcome.change
        rid = outcome.remote_id or change.remote_id
        if outcome.status == "ok" and change.action in _MATCHED and change.row is not None and rid:
            ids[change.row] = str(rid)
    return ids


def id_header(spec: ProviderSpec, read: ReadOptions) -> str:
    """The header of an added id column: the user's, when ``--mapping`` maps one onto the id field,
    else the provider's id field name."""
    field = spec.remote_id
    if read.mapping:
        for header, target in load_mapping(read.mapping).items():
            if target.casefold() == field.casefold():
                return header
    return field


def write_ids_copy(
    out: Path, sheet: Sheet, spec: ProviderSpec, read: ReadOptions, result: RunResult
) -> IdsCopy:
    """Write the copy of ``sheet``'s catalog with the ids of ``result``'s created and matched rows."""
    return write_ids(sheet, ids_of(result), field=spec.remote_id, header=id_header(spec, read), out=out)
