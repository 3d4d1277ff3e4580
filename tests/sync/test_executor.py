"""Executor logic with an in-memory provider (unit tests only; the acceptance tests use sandboxes).

The fake raises the same error classes the real clients raise, so these tests pin down how
the executor settles lost answers, records intents/outcomes, and stops on limits.
"""

from __future__ import annotations

import threading

from sync_helpers import Rec

from catalog_sync.errors import FatalProviderError, RowFailedError, UnknownOutcomeError
from catalog_sync.execute.executor import execute
from catalog_sync.plan.model import Change, Plan
from catalog_sync.remote.settle import settle_open_intents
from catalog_sync.spec import load_spec
from catalog_sync.state import Ledger


class _Stats:
    def __init__(self) -> None:
        self.requests = 0


class FakeProvider:
    """Holds records in a dict; ``lose`` lists write numbers whose answer is lost AFTER applying."""

    def __init__(
        self, name: str = "royalti", *, can_lookup: bool = True, lose=(), refuse=(), fatal=()
    ) -> None:
        self.name = name
        self.spec = load_spec(name)
        self.can_lookup = self.can_list = can_lookup
        self.base_url = "http://fake.test"
        self.stats = _Stats()
        self.records: dict[str, dict[str, str]] = {}
        self.lose, self.refuse, self.fatal = set(lose), set(refuse), set(fatal)
        self.writes = 0
        self.finds = 0
        self._lock = threading.Lock()

    def _write(self) -> int:
        with self._lock:
            self.writes += 1
            self.stats.requests += 1
            return self.writes

    def create(self, fields):
        n = self._write()
        if n in self.refuse:
            raise RowFailedError("refused", code=40000)
        if n in self.fatal:
            raise FatalProviderError("credentials refused", status=401)
        rid = f"id{n}"
        self.records[rid] = dict(fields)
        if n in self.lose:
            raise UnknownOutcomeError("answer lost")
        return type("W", (), {"remote_id": rid, "record": None})()

    def update(self, remote_id, fields, current):
        n = self._write()
        self.records[remote_id].update(fields)
        if n in self.lose:
            raise UnknownOutcomeError("answer lost")
        return type("W", (), {"remote_id": remote_id, "record": None})()

    def delete(self, remote_id):
        self._write()
        self.records.pop(remote_id)

    def find(self, fields):
        self.finds += 1
        for rid, rec in self.records.items():
            if fields.get("id") == rid or (
                fields.get("externalId") and rec.get("externalId") == fields["externalId"]
            ):
                return Rec(rid, rec, "fp")
        return None


def _plan(n: int, provider: str = "royalti") -> Plan:
    key = "externalId" if provider == "royalti" else "url"
    changes = [
        Change(
            row=i + 2,
            key=f"{key}=E{i}",
            action="create",
            fields={
                key: {"old": "", "new": f"E{i}"},
                ("title" if provider == "royalti" else "name"): {"old": "", "new": f"T{i}"},
            },
        )
        for i in range(n)
    ]
    return Plan(provider=provider, catalog="c.csv", base_url="http://fake.test", changes=changes)


def test_lost_answer_is_settled_by_lookup_not_resent(tmp_path):
    provider = FakeProvider(lose={2})
    with Ledger(tmp_path / "s.db") as ledger:
        result = execute(
            _plan(3),
            provider,
            ledger,
            run_id=ledger.start_run("apply", "royalti", "x", "c", "upsert"),
            concurrency=1,
        )
        assert [o.status for o in result.outcomes] == ["ok", "ok", "ok"]
        assert provider.writes == 3 and len(provider.records) == 3  # no duplicate
        assert provider.finds == 1
        assert ledger.open_intents("royalti", "http://fake.test") == []
        assert len(ledger.outcomes(1)) == 3


def test_jogg_lost_create_is_unknown_and_never_repeated(tmp_path):
    provider = FakeProvider("jogg", can_lookup=False, lose={1})
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "jogg", "x", "c", "upsert")
        result = execute(_plan(2, "jogg"), provider, ledger, run_id=run, concurrency=1)
        assert [o.status for o in result.outcomes] == ["unknown", "ok"]
        assert "--resolve-unknown" in result.outcomes[0].error
        assert provider.writes == 2
        unknowns = ledger.unknowns("jogg", "http://fake.test")
        assert [(u.key_field, u.key_value) for u in unknowns] == [("url", "E0")]
        assert result.problems == 1


def test_max_failures_stops_sending(tmp_path):
    provider = FakeProvider(refuse={1, 2})
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(_plan(6), provider, ledger, run_id=run, concurrency=1, max_failures=2)
        assert result.stopped == "max-failures"
        assert [o.status for o in result.outcomes] == ["failed", "failed"] + ["skipped"] * 4
        assert result.outcomes[0].error_code == "40000"
        assert provider.writes == 2


def test_fatal_error_stops_the_run(tmp_path):
    provider = FakeProvider(fatal={1})
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(_plan(4), provider, ledger, run_id=run, concurrency=1)
        assert result.stopped == "fatal" and isinstance(result.fatal, FatalProviderError)
        assert provider.writes == 1
        assert [o.status for o in result.outcomes][1:] == ["skipped"] * 3


def test_dead_run_intent_is_settled_by_find(tmp_path):
    provider = FakeProvider()
    provider.records["id9"] = {"externalId": "E0", "title": "T0"}  # the create had taken effect
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.begin_intent(
            1,
            "royalti",
            "http://fake.test",
            row=2,
            key="externalId=E0",
            action="create",
            remote_id=None,
            fields={"externalId": "E0", "title": "T0"},
        )
        ledger.begin_intent(
            1,
            "royalti",
            "http://fake.test",
            row=3,
            key="externalId=E1",
            action="create",
            remote_id=None,
            fields={"externalId": "E1", "title": "T1"},
        )
        notes = settle_open_intents(provider, ledger, run_id=2)
        assert len(notes) == 2 and "had taken effect (remote id id9)" in notes[0]
        assert "had not taken effect" in notes[1]
        assert ledger.open_intents("royalti", "http://fake.test") == []
        assert [r.remote_id for r in ledger.records("royalti", "http://fake.test")] == ["id9"]


def test_ledger_scopes_by_base_url_and_strips_credentials(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.remember("jogg", "https://user:pw@api.example.com/v2/?api_key=SECRET", "J1", {"name": "n"})
        assert [r.remote_id for r in ledger.records("jogg", "https://api.example.com/v2")] == ["J1"]
        assert ledger.records("jogg", "http://127.0.0.1:9") == []
        mode = ledger._db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    assert (
        b"SECRET" not in (tmp_path / "s.db").read_bytes() and b"pw@" not in (tmp_path / "s.db").read_bytes()
    )
