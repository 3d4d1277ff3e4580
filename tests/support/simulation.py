# mypy: disable-error-code="no-untyped-def,no-untyped-call,arg-type"
"""The simulation harness (issue 17 item 12): a user, a colleague and a hostile network, interleaved.

A hypothesis ``RuleBasedStateMachine`` drives the real CLI against a real sandbox over HTTP on
127.0.0.1.  Its rules are what happens to a catalog in life: the user adds, edits and drops rows;
a colleague edits, creates and deletes records through the API; the network loses answers, answers
5xx and 429, drops connections; a run is killed with ``kill -9`` and the next one reaches the state
through another path (a symlink); the user pulls a workbook and edits it (a three-way merge), saves
a plan and applies it later, runs ``--mode mirror``.  After every run the invariants are checked
(the anchors are FoundationDB's simulation testing and Jepsen's checkers):

* **no record created twice**: every record's natural key is held by one record only;
* **every reported outcome is what the provider holds**: a row reported ``ok`` created or updated a
  record that now holds the row's value in every changed field; a delete reported ``ok`` is gone;
* **no delete of a record any sheet row names** (by any of its keys), and none of a record that a
  pulled sheet dropped but a colleague changed since the pull;
* **no field overwritten that the plan did not show**: a colleague's edit survives a round trip whose
  cell the user left alone and a saved plan made before it; a sheet without a base that overwrites
  it lists that field as changed on that record's row;
* **no request outside the provider's contract**: the sandbox, which checks each body against the
  provider's OpenAPI document (or its validation rules), refused none;
* at the end, with the faults off, two runs converge: the second sends nothing, and every row that
  is not ``unknown`` exists once with its values.

The bounded run (``make test``) uses hypothesis's derandomised examples: the same steps every time.
``make soak`` runs many more steps with fresh seeds and prints the seed of any failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from openpyxl import load_workbook

from catalog_sync.providers import get_provider
from catalog_sync.spec import load_spec
from catalog_sync.spec.normalise import normalise_value
from tests.support.sync import (
    FAST,
    child_env,
    env_for,
    products,
    run_cli,
    sandbox,
    sheet_terms,
    write_requests,
    write_rows,
)

#: Values the user and the colleague type: few, so that both sometimes type the same one.
VALUES = ("red", "green", "blue")

#: The network's moods (sandbox fault knobs); every knob is set each time.
_CALM = {
    "error_rate": 0.0,
    "rate_limit_rate": 0.0,
    "drop_rate": 0.0,
    "lost_answer_rate": 0.0,
    "latency_ms": 0.0,
    "retry_after": 0,
    "error_methods": "",
    "lost_answer_methods": "",
}
FAULTS = {
    "calm": {},
    "lost-answers": {"lost_answer_rate": 0.3},
    "5xx": {"error_rate": 0.2},
    "429": {"rate_limit_rate": 0.2},
    "drops": {"drop_rate": 0.1},
}


def _upc(n: int) -> str:
    """A 12-digit UPC-A with a right check digit."""
    body = f"{n:011d}"
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd * 3 + even) % 10) % 10)


@dataclass(frozen=True)
class World:
    """One provider as the harness sees it: its rows, the fields people edit, what its API can do."""

    provider: str
    raw_id: str  # the id field of a sandbox record
    key: str  # the natural key each row fills with a value of its own
    edits: tuple[str, ...]  # fields the user and the colleague edit
    mirror: bool  # the provider lists and deletes: mirror runs and colleague deletes
    readable: bool = True  # the provider's records can be read back (JoggAI's cannot: the ledger stands in)

    def row(self, n: int, who: str = "S") -> dict[str, str]:
        if self.provider == "royalti":
            upc = _upc(n if who == "S" else 500000 + n)
            return {
                "externalId": f"{who}-{n}",
                "upc": upc,
                "title": f"T{n}",
                "displayArtist": "Band",
                "type": "Audio",
                "format": "Single",
                "label": "red",
            }
        if self.provider == "keevault":
            return {
                "name": f"{who}-{n}",
                "external_reference": f"R{who}-{n}",
                "description": "red",
                "source": "internal",
                "require_non_expired": "0",
                "status": "active",
            }
        return {"url": f"https://shop.example.com/{who}/{n}", "name": f"{who}-{n}", "description": "red"}


WORLDS = {
    "royalti": World("royalti", "id", "externalId", ("title", "label"), mirror=True),
    "keevault": World("keevault", "id", "name", ("description",), mirror=True),
    "jogg": World("jogg", "product_id", "name", ("description",), mirror=False, readable=False),
}


@dataclass
class Watch:
    """What the checkers remember between steps."""

    #: (remote id, field) → the value a colleague set since the last run
    since_run: dict[tuple[str, str], str] = field(default_factory=dict)
    #: the provider's records when the sheet was pulled, and when the saved plan was made
    at_pull: dict[str, dict[str, str]] = field(default_factory=dict)
    at_plan: dict[str, dict[str, str]] = field(default_factory=dict)
    #: (remote id, field) a colleague ever set: a provider that cannot be read never sees them
    unseen: set[tuple[str, str]] = field(default_factory=set)
    #: (row key, field) cells the user edited since the pull
    edited_since_pull: set[tuple[str, str]] = field(default_factory=set)
    runs: int = 0
    steps: int = 0
    #: what happened, by kind: runs of each sort, colleague actions, moods (reported by the soak)
    did: Counter[str] = field(default_factory=Counter)


class Simulation(RuleBasedStateMachine):
    """The machine; :func:`simulation_for` makes one per provider."""

    world: World

    def __init__(self) -> None:
        super().__init__()
        self.spec = load_spec(self.world.provider)
        self._stack = ExitStack()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"sim-{self.world.provider}-"))
        self._stack.callback(shutil.rmtree, self.tmp, True)
        self.sb = self._stack.enter_context(sandbox(self.world.provider))
        self.env = env_for(self.sb, self.world.provider, self.tmp)
        self.their_client = get_provider(self.world.provider).from_env(
            base_url=self.sb.url, env=self.env, rate=1000.0, backoff_base=0.01
        )
        self._stack.callback(self.their_client.close)
        (self.tmp / "state").mkdir()
        (self.tmp / "alt").symlink_to(self.tmp / "state", target_is_directory=True)
        self.state = self.tmp / "state" / "s.db"
        self.rows: list[dict[str, str]] = []
        self.n = 0
        self.mood = "calm"
        self.pulled: Path | None = None
        self.saved: Path | None = None
        self.watch = Watch()

    def teardown(self) -> None:
        try:
            if self.watch.steps:
                self._converge()
                self.watch.did["converged"] += 1
        finally:
            self._stack.close()
            _log(self.world.provider, self.watch)

    # ------------------------------------------------------------------ the user's sheet
    @rule(count=st.integers(1, 3))
    def add_rows(self, count: int) -> None:
        self.watch.did["add_rows"] += 1
        for _ in range(count):
            self.n += 1
            self.rows.append(self.world.row(self.n))

    @precondition(lambda self: self.rows)
    @rule(i=st.integers(0, 99), which=st.integers(0, 9), value=st.sampled_from(VALUES))
    def edit_cell(self, i: int, which: int, value: str) -> None:
        self.watch.did["edit_cell"] += 1
        row = self.rows[i % len(self.rows)]
        name = self.world.edits[which % len(self.world.edits)]
        row[name] = value
        self.watch.edited_since_pull.add((row[self.world.key], name))

    @precondition(lambda self: self.rows)
    @rule(i=st.integers(0, 99))
    def drop_row(self, i: int) -> None:
        self.watch.did["drop_row"] += 1
        self.rows.pop(i % len(self.rows))

    @precondition(lambda self: self.pulled is not None)
    @rule()
    def save_as_csv(self) -> None:
        """The user saves the round trip as a CSV: no base from now on (two-way)."""
        self.watch.did["save_as_csv"] += 1
        self.pulled = None

    # ------------------------------------------------------------------ a colleague, through the API
    @rule(
        act=st.sampled_from(("edit", "edit", "create", "delete")),
        i=st.integers(0, 99),
        which=st.integers(0, 9),
        value=st.sampled_from(VALUES),
    )
    def colleague(self, act: str, i: int, which: int, value: str) -> None:
        """One rule for the colleague (hypothesis picks among rules evenly): mostly edits."""
        records = sorted(products(self.sb), key=lambda p: str(p[self.world.raw_id]))
        if act == "create" or not records:
            self._colleague_creates()
        elif act == "delete" and self.world.mirror:
            self._colleague_deletes(str(records[i % len(records)][self.world.raw_id]))
        else:
            rid = str(records[i % len(records)][self.world.raw_id])
            self._colleague_edits(rid, self.world.edits[which % len(self.world.edits)], value)

    def _colleague_edits(self, rid: str, name: str, value: str) -> None:
        self.watch.did["colleague edits"] += 1
        current = {r.remote_id: r for r in self.their_client.list_remote()}.get(rid)
        with self._calm():
            self.their_client.update(rid, {name: value}, current)
        self.watch.since_run[(rid, name)] = value
        self.watch.unseen.add((rid, name))

    def _colleague_creates(self) -> None:
        self.watch.did["colleague creates"] += 1
        self.n += 1
        with self._calm():
            self.their_client.create(self.world.row(self.n, who="C"))

    def _colleague_deletes(self, rid: str) -> None:
        self.watch.did["colleague deletes"] += 1
        with self._calm():
            self.their_client.delete(rid)

    # ------------------------------------------------------------------ the network
    @rule(mood=st.sampled_from(sorted(FAULTS)), seed=st.integers(0, 2**16))
    def network(self, mood: str, seed: int) -> None:
        self.watch.did[f"network {mood}"] += 1
        self.mood = mood
        self.sb.set_faults(**{**_CALM, **FAULTS[mood]}, seed=seed)

    # ------------------------------------------------------------------ runs
    # Runs are what is tested: three rules (hypothesis picks among rules evenly) make them common.
    @precondition(lambda self: self.rows)
    @rule()
    def apply_upsert(self) -> None:
        self._apply("upsert")

    @precondition(lambda self: self.rows)
    @rule()
    def apply_again(self) -> None:
        self._apply("upsert")

    @precondition(lambda self: self.rows)
    @rule()
    def apply_mirror(self) -> None:
        self._apply("mirror" if self.world.mirror else "upsert")

    def _apply(self, mode: str) -> None:
        self.watch.did[f"apply {mode}" + (" (round trip)" if self.pulled else "")] += 1
        sheet, before = self._write_sheet(), self._remote()
        self._run_and_check(lambda report: self._apply_args(sheet, mode, report), sheet_rows=self.rows)
        if self.pulled is not None:
            self._check_round_trip_kept_remote_edits(before)

    @precondition(lambda self: self.rows)
    @rule()
    def pull(self) -> None:
        self.watch.did["pull"] += 1
        out = self.tmp / f"pulled-{self.watch.steps}.xlsx"
        with self._calm():
            result = run_cli(["pull", "-p", self.world.provider, "-o", str(out), *self._state()], self.env)
        assert result.exit_code == 0, result.output
        self.rows = _read_products_sheet(out)
        self.pulled = out
        self.watch.at_pull, self.watch.edited_since_pull = self._remote(), set()

    @precondition(lambda self: self.rows)
    @rule(mirror=st.booleans())
    def save_plan(self, mirror: bool) -> None:
        self.watch.did["save_plan"] += 1
        mode = "mirror" if mirror and self.world.mirror else "upsert"
        plan = self.tmp / f"plan-{self.watch.steps}.json"
        sheet = self._write_sheet()
        args = ["plan", str(sheet), "-p", self.world.provider, *self._state(), *FAST, "--mode", mode]
        result = run_cli([*args, "-o", str(plan)], self.env)
        if result.exit_code == 0 and plan.exists():
            self.saved, self.saved_rows, self.watch.at_plan = (
                plan,
                [dict(r) for r in self.rows],
                self._remote(),
            )

    @precondition(lambda self: self.saved is not None)
    @rule()
    def apply_saved_plan(self) -> None:
        self.watch.did["apply_saved_plan"] += 1
        plan, self.saved = self.saved, None
        assert plan is not None
        before = self._remote()
        moved = {rid for rid, record in before.items() if self.watch.at_plan.get(rid, record) != record}
        self._run_and_check(lambda report: self._apply_args(plan, None, report), sheet_rows=self.saved_rows)
        after = self._remote()
        for rid in moved:  # changed since the plan was made: the plan did not see it, so never writes it
            assert after.get(rid) == before[rid], (
                f"a saved plan wrote to {rid}, changed since the plan: {before[rid]} → {after.get(rid)}"
            )

    @precondition(lambda self: self.rows)
    @rule()
    def apply_killed(self) -> None:
        """``kill -9`` mid-run, once the sandbox has seen a write; the next run takes another path."""
        self.watch.did["apply_killed"] += 1
        before, named = self._remote(), self._named(self.rows)
        sheet = self._write_sheet()
        seen = write_requests(self.sb)
        self.sb.set_faults(latency_ms=30.0)
        command = [sys.executable, "-m", "catalog_sync", *self._apply_args(sheet, "upsert", None)]
        proc = subprocess.Popen(
            command, env=child_env(self.env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            while proc.poll() is None and write_requests(self.sb) == seen:
                time.sleep(0.005)  # polling the event: the sandbox saw a write
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
            self.sb.set_faults(latency_ms=0.0)
        self._check_store(before, named, report_rows=[])
        self.watch.since_run = {}  # what the killed run wrote over, it showed in its plan (no report to check)
        self.state = self.tmp / ("alt" if self.state.parent.name == "state" else "state") / "s.db"

    # ------------------------------------------------------------------ checks
    @invariant()
    def count(self) -> None:
        self.watch.steps += 1

    def _run_and_check(self, args_for: Any, sheet_rows: list[dict[str, str]]) -> None:
        before, named = self._remote(), self._named(sheet_rows)
        report = self.tmp / f"report-{self.watch.steps}.json"
        result = run_cli(args_for(report), self.env)
        assert "unexpected" not in result.output, result.output
        assert result.exit_code in (0, 1, 4), result.output
        rows = json.loads(report.read_text())["rows"] if report.exists() else []
        self._check_store(before, named, rows)
        self._check_outcomes(rows)
        self._check_overwrites_shown(rows)
        self.watch.runs += 1
        self.watch.since_run = {}

    def _check_store(
        self, before: dict[str, dict[str, str]], named: set[str], report_rows: list[dict]
    ) -> None:
        remote = self._remote()
        keys = [r[self.world.key] for r in remote.values() if r[self.world.key]]
        assert len(keys) == len(set(keys)), f"a record was created twice: {sorted(keys)}"
        deleted = set(before) - set(remote)
        assert not deleted & named, f"deleted {sorted(deleted & named)}, which rows of the sheet name"
        if self.pulled is not None:  # dropped from a pulled sheet but changed since the pull: never deleted
            moved = {rid for rid in deleted if self.watch.at_pull.get(rid, before[rid]) != before[rid]}
            assert not moved, f"deleted {sorted(moved)}, changed since the pull"
        refused = self.sb.stats()["refused"]
        assert not refused, f"the sandbox refused bodies its provider's contract forbids: {refused}"

    def _check_outcomes(self, rows: list[dict]) -> None:
        remote = self._remote()
        for row in rows:
            if row["status"] != "ok" or row["action"] not in ("create", "update", "delete"):
                continue
            rid = str(row["remote_id"])
            if row["action"] == "delete":
                assert rid not in remote, f"reported deleted, but {rid} is there"
                continue
            assert rid in remote, f"row {row['row']} reported {row['action']} ok, but {rid} is not there"
            for name in filter(None, row["changed"].split(";")):
                sent = normalise_value(row["values"].get(name, ""), self.spec.field(name))
                assert remote[rid][name] == sent, (
                    f"row {row['row']} reported {name} {sent!r} ok; {rid} holds {remote[rid][name]!r}"
                )

    def _check_overwrites_shown(self, rows: list[dict]) -> None:
        remote = self._remote()
        shown = {
            (str(r["remote_id"]), name)
            for r in rows
            if r["status"] == "ok"
            for name in r["changed"].split(";")
        }
        for (rid, name), value in self.watch.since_run.items():
            now = remote.get(rid, {}).get(name)
            if now is not None and now != normalise_value(value, self.spec.field(name)):
                assert (rid, name) in shown, (
                    f"{name} of {rid} (a colleague's {value!r}) was overwritten unseen"
                )

    def _check_round_trip_kept_remote_edits(self, before: dict[str, dict[str, str]]) -> None:
        """A run of the pulled sheet changes no field whose cell the user left alone since the pull:
        a remote edit made since (a colleague's, or a run of another sheet) is kept, or a conflict."""
        after = self._remote()
        for row in self.rows:
            rid = row.get(self.spec.remote_id, "")
            if rid not in before or rid not in after:
                continue
            for name in self.world.edits:
                if (row[self.world.key], name) not in self.watch.edited_since_pull:
                    assert after[rid][name] == before[rid][name], (
                        f"a run of the pulled sheet changed {name} of {rid} ({before[rid][name]!r} → "
                        f"{after[rid][name]!r}), a cell the user left alone since the pull"
                    )

    def _converge(self) -> None:
        """Faults off, two-way, ids left out: the first run settles, the second sends nothing."""
        self.sb.set_faults(**_CALM)
        self.pulled = None
        if not self.rows:
            return
        rows = [{k: v for k, v in r.items() if k != self.spec.remote_id} for r in self.rows]
        sheet = write_rows(self.tmp / "final.csv", rows)
        first = self.tmp / "final-1.json"
        run_cli(self._apply_args(sheet, "upsert", first), self.env)
        sent = write_requests(self.sb)
        second = self.tmp / "final-2.json"
        result = run_cli(self._apply_args(sheet, "upsert", second), self.env)
        assert write_requests(self.sb) == sent, (
            f"a second run straight after the first wrote again: {result.output}"
        )
        outcome = json.loads(second.read_text())["rows"]
        unsettled = {
            r["values"].get(self.world.key) for r in outcome if r["status"] in ("unknown", "conflict")
        }
        by_key = {r[self.world.key]: r for r in self._remote().values()}
        for row in rows:
            if row[self.world.key] in unsettled:
                continue
            record = by_key.get(row[self.world.key])
            assert record is not None, f"row {row[self.world.key]} is not there after two calm runs"
            for name in self.world.edits:
                if not self.world.readable and (record[self.spec.remote_id], name) in self.watch.unseen:
                    continue  # JoggAI cannot be read: a colleague's edit there is out of sight for good
                assert record[name] == normalise_value(row[name], self.spec.field(name)), (row, record)

    # ------------------------------------------------------------------ helpers
    def _state(self) -> list[str]:
        return ["--state", str(self.state)]

    def _apply_args(self, source: Path, mode: str | None, report: Path | None) -> list[str]:
        args = ["apply", str(source), "-p", self.world.provider, *self._state(), *FAST, "--yes"]
        args += ["--concurrency", "1", "--max-deletes", "1000"]
        if mode is not None:
            args += ["--mode", mode]
        return args + (["--report", str(report)] if report is not None else [])

    @contextmanager
    def _calm(self) -> Iterator[None]:
        """The colleague's requests and the pulls meet no faults (they are not what is tested)."""
        self.sb.set_faults(**_CALM)
        try:
            yield
        finally:
            self.sb.set_faults(**{**_CALM, **FAULTS[self.mood]})

    def _remote(self) -> dict[str, dict[str, str]]:
        return {str(p[self.world.raw_id]): sheet_terms(self.world.provider, p) for p in products(self.sb)}

    def _named(self, rows: list[dict[str, str]]) -> set[str]:
        """Ids of the records any key of any of ``rows`` names."""
        wanted = {
            (key, normalise_value(row[key], self.spec.field(key)))
            for row in rows
            for key in self.spec.keys
            if row.get(key)
        }
        named = set()
        for rid, record in self._remote().items():
            if (self.spec.remote_id, rid) in wanted or any(
                (k, record.get(k, "")) in wanted for k in self.spec.keys
            ):
                named.add(rid)
        return named

    def _write_sheet(self) -> Path:
        """The sheet as the user saved it: the pulled workbook (its base kept), else a CSV."""
        n = self.watch.steps
        if self.pulled is None:
            columns = list(dict.fromkeys(k for row in self.rows for k in row))
            return write_rows(self.tmp / f"sheet-{n}.csv", self.rows, header=columns)
        out = self.tmp / f"sheet-{n}.xlsx"
        book = load_workbook(self.pulled)
        ws = book["Products"]
        header = [c.value for c in ws[1]]
        ws.delete_rows(2, ws.max_row)
        for row in self.rows:
            ws.append([row.get(str(name), "") for name in header])
        for cells in ws.iter_rows(min_row=2):
            for cell in cells:
                cell.data_type = "s"
        book.save(out)
        return out


def _log(provider: str, watch: Watch) -> None:
    """One line per example to ``CATALOG_SYNC_SIM_LOG`` (the soak's tally), when set."""
    path = os.environ.get("CATALOG_SYNC_SIM_LOG")
    if path:
        line = {"provider": provider, "steps": watch.steps, "runs": watch.runs, **watch.did}
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")


def _read_products_sheet(path: Path) -> list[dict[str, str]]:
    ws = load_workbook(path, read_only=True)["Products"]
    grid = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    header = grid[0]
    return [dict(zip(header, row, strict=False)) for row in grid[1:] if any(row)]


def simulation_for(provider: str) -> type[Simulation]:
    return type(f"{provider.title()}Simulation", (Simulation,), {"world": WORLDS[provider]})
