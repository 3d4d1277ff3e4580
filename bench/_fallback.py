"""Minimal stand-ins for ``bench.generate`` and ``bench.remote``, used when those are not there.

The harness prefers the real modules (``bench/generate.py``: catalogs built with numpy;
``bench/remote.py``: the remote figures) and falls back to these otherwise, so ``make bench``
works before and after they land.  The functions take and return the same things:

* ``make_catalog(provider, rows, path, changed_share=0.0, seed=0) -> Path``: a valid CSV;
* ``plan_vs_sequential_read(rows, workdir, changed_share=0.01, budget_s=None) -> dict``;
* ``apply_vs_plain_clients(updates, workdir, latency_ms=50.0, clients=8) -> dict``;
* ``adaptive_pacing_share(rps, updates, workdir) -> dict``.

The remote dicts hold ``ours`` and the anchor as :meth:`ProcessRun.to_dict` dicts plus the
figure's numbers (see each function).  Every remote figure runs against the Royalti sandbox.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from bench import anchors
from bench.measure import ProcessRun, catalog_sync, run_process
from bench.sandboxes import BENCH_KEY, RateLimit, record_id, seeded_royalti, time_one_page

ROYALTI_COLUMNS = (
    "upc",
    "title",
    "displayArtist",
    "catalogNumber",
    "externalId",
    "type",
    "format",
    "explicit",
    "releaseDate",
    "c_line_year",
    "status",
)
KEEVAULT_COLUMNS = ("name", "description", "source", "require_non_expired", "external_reference", "status")
EDITED = {"royalti": "title", "keevault": "name"}


# catalogs ------------------------------------------------------------------------------------
def gtin12(number: int) -> str:
    body = f"{number:011d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _royalti_row(i: int) -> list[str]:
    return [
        gtin12(10**9 + i),
        f"Release {i:07d}",
        ("John Doe", "Die Stromer", "Les Rêveurs")[i % 3],
        f"CAT-{i:07d}",
        f"EXT-{i:07d}",
        ("Audio", "Video", "Ringtone")[i % 3],
        ("Single", "EP", "Album", "LP")[i % 4],
        ("clean", "explicit")[i % 2],
        f"20{10 + i % 15}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        str(1990 + i % 35),
        ("Live", "Pending", "Scheduled")[i % 3],
    ]


def _keevault_row(i: int) -> list[str]:
    return [
        f"Licence {i:07d}",
        "Desktop app licence",
        ("internal", "envato")[i % 2],
        str(i % 2),
        f"REF-{i:07d}",
        ("active", "inactive")[i % 2],
    ]


_ROWS = {"royalti": (ROYALTI_COLUMNS, _royalti_row), "keevault": (KEEVAULT_COLUMNS, _keevault_row)}


def make_catalog(
    provider: str, rows: int, path: str | Path, changed_share: float = 0.0, seed: int = 0
) -> Path:
    """A valid CSV catalog; ``changed_share`` of the rows get an edited title/name (seeded)."""
    if provider not in _ROWS:
        raise ValueError(f"the fallback generator knows {', '.join(_ROWS)}, not {provider!r}")
    columns, make_row = _ROWS[provider]
    edited_at = columns.index(EDITED[provider])
    changed = set(random.Random(seed + 1).sample(range(rows), round(rows * changed_share)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(columns)
        for i in range(rows):
            row = make_row(i)
            if i in changed:
                row[edited_at] += " (edited)"
            out.writerow(row)
    return path


# remote figures ------------------------------------------------------------------------------
def _two_catalogs(rows: int, workdir: Path, changed_share: float) -> tuple[Path, Path]:
    from bench.parts import generator

    make = generator()
    remote = make("royalti", rows, workdir / f"remote-{rows}.csv", 0.0, 0)
    edited = make("royalti", rows, workdir / f"catalog-{rows}-{changed_share:g}.csv", changed_share, 0)
    return Path(remote), Path(edited)


def _sync_env(url: str) -> dict[str, str]:
    return {"ROYALTI_API_KEY": BENCH_KEY, "ROYALTI_BASE_URL": url}


def _sync_args(command: str, catalog: Path, workdir: Path, tag: str) -> list[str]:
    args = [command, str(catalog), "-p", "royalti", "--state", str(workdir / f"state-{tag}.db")]
    if command == "apply":
        args += ["--yes", "--report", str(workdir / f"report-{tag}.json")]
    else:
        args += ["-o", str(workdir / f"plan-{tag}.json")]
    return args


def plan_vs_sequential_read(
    rows: int, workdir: Path, changed_share: float = 0.01, budget_s: float | None = None
) -> dict[str, Any]:
    """``catalog-sync plan`` of ``rows`` rows against as many remote records vs a sequential read.

    Keys: ``records``, ``changed``, ``pages``, ``ours``, ``sequential``, ``planned_updates``;
    ``skipped`` (a reason) when one page already shows the read would exceed ``budget_s``.
    """
    remote, edited = _two_catalogs(rows, workdir, changed_share)
    out: dict[str, Any] = {"records": rows, "changed": round(rows * changed_share)}
    with seeded_royalti(remote) as sb:
        pages = max(1, -(-rows // 100))
        out["pages"] = pages
        estimate = pages * time_one_page(sb.url)
        if budget_s is not None and estimate > budget_s:
            out["skipped"] = (
                f"a sequential read would take about {estimate:,.0f} s ({pages:,} pages; the sandbox sorts "
                f"all {rows:,} records for every page), over the {budget_s:,.0f} s budget"
            )
            return out
        sequential = run_process(
            anchors.command("sequential-read", sb.url, "100"), env={anchors.KEY_VARIABLE: BENCH_KEY}
        )
        ours = run_process(catalog_sync(*_sync_args("plan", edited, workdir, "plan")), env=_sync_env(sb.url))
    out.update(sequential=sequential.to_dict(), ours=ours.to_dict(), ours_error=_error(ours))
    out["planned_updates"] = _planned_updates(workdir / "plan-plan.json") if ours.ok else None
    return out


def apply_vs_plain_clients(
    updates: int, workdir: Path, latency_ms: float = 50.0, clients: int = 8
) -> dict[str, Any]:
    """``catalog-sync apply`` of ``updates`` changed titles vs ``clients`` plain clients sending them.

    Keys: ``updates``, ``latency_ms``, ``ours`` / ``plain`` (runs), ``ours_per_s`` / ``plain_per_s``
    (updates per second of each whole process), ``ours_writes_per_s`` (over the sending phase the
    report times), ``ours_applied`` / ``plain_applied``.
    """
    remote, edited = _two_catalogs(updates, workdir, 1.0)
    args = [*_sync_args("apply", edited, workdir, "apply"), "--concurrency", str(clients), "--rate", "1000"]
    with seeded_royalti(remote, latency_ms=latency_ms) as sb:
        ours = run_process(catalog_sync(*args), env=_sync_env(sb.url))
        ours_applied = sb.stats()["writes_applied"]
    jobs = _update_jobs(remote, edited, workdir / "updates.jsonl")
    with seeded_royalti(remote, latency_ms=latency_ms) as sb:
        plain = run_process(
            anchors.command("plain-updates", sb.url, str(jobs), str(clients)),
            env={anchors.KEY_VARIABLE: BENCH_KEY},
        )
        plain_applied = sb.stats()["writes_applied"]
    return {
        "updates": updates,
        "latency_ms": latency_ms,
        "clients": clients,
        "ours_options": "--concurrency 8 --rate 1000",
        "ours": ours.to_dict(),
        "ours_error": _error(ours),
        "plain": plain.to_dict(),
        "ours_applied": ours_applied,
        "plain_applied": plain_applied,
        "ours_per_s": ours_applied / ours.seconds,
        "ours_writes_per_s": _writes_per_s(workdir / "report-apply.json", ours_applied),
        "plain_per_s": plain_applied / plain.seconds,
    }


def adaptive_pacing_share(rps: float, updates: int, workdir: Path) -> dict[str, Any]:
    """A default ``catalog-sync apply`` against a sandbox that answers 429 beyond ``rps`` requests/s.

    Keys: ``rps``, ``updates``, ``ours`` (run), ``accepted``, ``answered_429``, ``achieved_rps``
    (accepted writes per second between the first and the last, as the server saw them: the
    sustained phase), ``share_of_r`` (of it) and ``share_429`` (of all requests).
    """
    remote, edited = _two_catalogs(updates, workdir, 1.0)
    limit = RateLimit(rps)
    with seeded_royalti(remote, rate_limit=limit) as sb:
        ours = run_process(
            catalog_sync(*_sync_args("apply", edited, workdir, "pacing")), env=_sync_env(sb.url)
        )
    achieved = limit.achieved_write_rps()
    total = limit.accepted + limit.refused
    return {
        "rps": rps,
        "updates": updates,
        "limiter": limit.describe(),
        "ours": ours.to_dict(),
        "ours_error": _error(ours),
        "accepted": limit.accepted,
        "answered_429": limit.refused,
        "achieved_rps": achieved,
        "share_of_r": None if achieved is None else achieved / rps,
        "share_429": limit.refused / total if total else None,
    }


def _update_jobs(remote: Path, edited: Path, path: Path) -> Path:
    """``[id, {"title": new}]`` per changed row: the same PUT bodies ``apply`` sends."""
    with remote.open(encoding="utf-8", newline="") as a, edited.open(encoding="utf-8", newline="") as b:
        pairs = zip(csv.DictReader(a), csv.DictReader(b), strict=True)
        lines = [
            json.dumps([record_id(i), {"title": new["title"]}])
            for i, (old, new) in enumerate(pairs)
            if old["title"] != new["title"]
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _writes_per_s(report: Path, applied: int) -> float | None:
    """Writes per second over the sending phase, as apply's JSON report times it."""
    try:
        seconds = json.loads(report.read_text(encoding="utf-8"))["summary"]["seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return applied / float(seconds) if seconds else None


def _planned_updates(plan: Path) -> int | None:
    try:
        summary = json.loads(plan.read_text(encoding="utf-8")).get("summary", {})
    except (OSError, ValueError):
        return None
    value = summary.get("update")
    return int(value) if isinstance(value, int) else None


def _error(run: ProcessRun) -> str | None:
    """The last line the child printed on stderr when it failed (for the figure's note)."""
    if run.ok:
        return None
    lines = [line for line in (run.stderr or run.stdout).splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"exit {run.returncode}"
