"""The page to review: a plan (``plan --html FILE``) or an apply (``apply --report FILE.html``) as
one self-contained HTML file.

The page holds everything it shows: its CSS and JavaScript are inline (``review_page.css`` and
``review_page.js`` beside this module, put into ``review_page.html``), the rows are JSON in a
``<script type="application/json">`` element, and a Content-Security-Policy forbids every fetch
(``default-src 'none'``), so opening it reaches no network and it can be attached to a ticket.

Every value is data: the JSON is escaped so that no cell (``</script>``, ``<!--``, U+2028) can end
its element, and the script only ever sets ``textContent``, never HTML.  Rows are grouped by
action (a plan) or status (an apply) and rendered a page at a time, so a plan of 10,000 rows opens
and filters quickly.

What a reviewer sees first is what needs a decision: conflicts, then creates, updates, deletes
(:data:`PAGE_ACTIONS`); unchanged rows are counted but hidden until their filter is ticked.  The
search looks in every value of a row (a pulled sheet's rows are keyed by id, so a UPC is found in
its values), and a create shows its values (``field: value``), not empty → value per field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from catalog_sync.config.credentials import public_base_url
from catalog_sync.errors import ConfigError
from catalog_sync.planning.model import ACTIONS, Change, Plan
from catalog_sync.spec import load_spec

__all__ = ["RowResult", "page_data", "review_page", "write_review_page"]

#: Actions in display order: what needs a decision first, unchanged (hidden at first) last.
PAGE_ACTIONS = ("conflict", "create", "update", "delete", "skip", "unchanged")
#: Statuses in display order (the executor's, failures first: they need a look).
STATUS_ORDER = ("failed", "unknown", "conflict", "skipped", "ok")

_MARKER = re.compile(r"@(?:TITLE|CSS|JS|DATA)@")
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


class RowResult(Protocol):
    """What an apply did with one change (``execute.executor.RowOutcome`` is one)."""

    change: Change
    status: str
    remote_id: str | None
    error_code: str
    error: str


def _label(change: Change, labels: Sequence[str]) -> str:
    """The row's human name: its first label field (``labels`` in the schema) filled, the new value
    of a changed one."""
    for name in labels:
        if name in change.fields and change.fields[name].get("new"):
            return change.fields[name]["new"]
        value = change.values.get(name)
        if value:
            return str(value)
    return ""


def _row(change: Change, labels: Sequence[str], result: RowResult | None = None) -> dict[str, Any]:
    """One row of the page's data (compact: fields as [old, new], conflicts as [base, sheet, remote])."""
    row: dict[str, Any] = {
        "row": change.row,
        "key": change.key,
        "label": _label(change, labels),
        "action": change.action,
    }
    if change.values:
        row["values"] = {n: str(v) for n, v in change.values.items() if v not in ("", None)}
    if change.fields:
        row["fields"] = {n: [d.get("old", ""), d.get("new", "")] for n, d in change.fields.items()}
    if change.conflicts:
        row["conflicts"] = {
            n: [s.get("old", ""), s.get("sheet", ""), s.get("remote", "")]
            for n, s in change.conflicts.items()
        }
    if change.remote_changed:
        row["remote_changed"] = {
            n: [s.get("old", ""), s.get("remote", "")] for n, s in change.remote_changed.items()
        }
    remote_id = (result.remote_id if result is not None else None) or change.remote_id
    if remote_id:
        row["remote_id"] = remote_id
    if change.reason and (result is None or result.error != change.reason):
        row["reason"] = change.reason  # an apply's settled row carries it as its error: said once
    if result is not None:
        row["status"] = result.status
        if result.error_code or result.error:
            row["error_code"], row["error"] = result.error_code, result.error
    return row


def page_data(
    plan: Plan, results: Sequence[RowResult] | None = None, run: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the page shows, as JSON-ready data.

    ``results``: an apply's outcomes (one per change, in the run's order); without them the page
    shows the plan.  ``run``: the apply's summary (``run.report.run_summary``: counts per action and
    status, requests, seconds, run id, start).
    """
    labels = load_spec(plan.provider).labels
    if results is None:
        rows = [_row(c, labels) for c in plan.changes.transient()]  # an unchanged row's change: not kept
        counts: dict[str, Any] = {"action": {a: n for a, n in plan.summary.items() if n}}
    else:
        rows = [_row(r.change, labels, r) for r in results]
        counts = {
            "action": _counted(rows, "action", ACTIONS),
            "status": _counted(rows, "status", STATUS_ORDER),
        }
    summary: dict[str, Any] = {
        "provider": plan.provider,
        "catalog": plan.catalog,
        "base_url": public_base_url(plan.base_url),  # never a credential
        "mode": plan.mode,
        "created": plan.created_at,
        **counts,
    }
    if run is not None:
        summary.update(
            {k: run[k] for k in ("run_id", "requests", "seconds", "stopped") if run.get(k) is not None}
        )
        summary["created"] = run.get("started") or plan.created_at
    return {
        "kind": "plan" if results is None else "apply",
        "summary": summary,
        "notes": list(plan.notes),
        "actions": [*PAGE_ACTIONS, *(a for a in ACTIONS if a not in PAGE_ACTIONS)],
        "statuses": list(STATUS_ORDER),
        "rows": rows,
    }


def _counted(rows: list[dict[str, Any]], name: str, order: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[name]] = counts.get(row[name], 0) + 1
    return {k: counts[k] for k in [*order, *sorted(set(counts) - set(order))] if k in counts}


def script_json(data: Any) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element: ``<``, ``>``, ``&``, U+2028 and
    U+2029 are written as ``\\u`` escapes, so no value can close the element or start a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return "".join(_ESCAPES.get(ch, ch) for ch in text) if any(ch in text for ch in _ESCAPES) else text


def _asset(name: str) -> str:
    return resources.files("catalog_sync.planning").joinpath(name).read_text(encoding="utf-8")


def review_page(
    plan: Plan, results: Sequence[RowResult] | None = None, run: Mapping[str, Any] | None = None
) -> str:
    """The whole page as one HTML string (see :func:`page_data` for the arguments)."""
    data = page_data(plan, results, run)
    title = f"catalog-sync {'apply' if results is not None else 'plan'}: {plan.provider}"
    template = _asset("review_page.html")
    parts = {
        "@TITLE@": _html_text(title),
        "@CSS@": _asset("review_page.css"),
        "@JS@": _asset("review_page.js"),
        "@DATA@": script_json(data),
    }
    # one pass over the template: an inserted value is never searched for a marker
    return _MARKER.sub(lambda m: parts[m.group(0)], template)


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_review_page(
    path: str | Path,
    plan: Plan,
    results: Sequence[RowResult] | None = None,
    run: Mapping[str, Any] | None = None,
) -> Path:
    """Write the page to ``path`` atomically (never half a file) and return the path."""
    from catalog_sync.sheets.write.report import atomic_target

    target = Path(path)
    text = review_page(plan, results, run)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(target) as temp:
            temp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the page {target}: {exc.strerror or exc}") from None
    return target
