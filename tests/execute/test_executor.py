# mypy: disable-error-code="arg-type"
"""Executor logic with an in-memory provider (unit tests only; the acceptance tests use sandboxes).

The fake raises the same error classes the real clients raise, so these tests pin down how
the executor settles lost answers, records intents/outcomes, and stops on limits.
"""

from __future__ import annotations

import os
import signal

from catalog_sync.errors import FatalProviderError
from catalog_sync.execute.executor import execute
from catalog_sync.remote.settle import settle_open_intents
from catalog_sync.state import Ledger, LedgerScope
from tests.support.fake_provider import FakeProvider, plan_of
from tests.support.sync import Rec


def test_lost_answer_is_settled_by_lookup_not_resent(tmp_path):
    provider = FakeProvider(lose={2})
    with Ledger(tmp_path / "s.db") as ledger:
        result = execute(
            plan_of(3),
            provider,
            ledger,
            run_id=ledger.start_run("apply", "royalti", "x", "c", "upsert"),
            concurrency=1,
        )
        assert [o.status for o in result.outcomes] == ["ok", "ok", "ok"]
        assert provider.writes == 3 and len(provider.records) == 3  # no duplicate
        assert provider.finds == 1
        assert ledger.open_intents(provider.ledger_scope) == []
        assert len(ledger.outcomes(1)) == 3


def test_jogg_lost_create_is_unknown_and_never_repeated(tmp_path):
    provider = FakeProvider("jogg", can_lookup=False, lose={1})
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "jogg", "x", "c", "upsert")
        result = execute(plan_of(2, "jogg"), provider, ledger, run_id=run, concurrency=1)
        assert [o.status for o in result.outcomes] == ["unknown", "ok"]
        assert "--resolve-unknown" in result.outcomes[0].error
        assert provider.writes == 2
        unknowns = ledger.unknowns(provider.ledger_scope)
        assert [(u.key_field, u.key_value) for u in unknowns] == [("url", "E0")]
        assert result.problems == 1


def test_max_failures_stops_sending(tmp_path):
    provider = FakeProvider(refuse={1, 2})
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(plan_of(6), provider, ledger, run_id=run, concurrency=1, max_failures=2)
        assert result.stopped == "max-failures"
        assert [o.status for o in result.outcomes] == ["failed", "failed"] + ["skipped"] * 4
        assert result.outcomes[0].error_code == "40000"
        assert provider.writes == 2


def test_fatal_error_stops_the_run(tmp_path):
    provider = FakeProvider(fatal={1})
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(plan_of(4), provider, ledger, run_id=run, concurrency=1)
        assert result.stopped == "fatal" and isinstance(result.fatal, FatalProviderError)
        assert provider.writes == 1
        assert [o.status for o in result.outcomes][1:] == ["skipped"] * 3


def test_dead_run_intent_is_settled_by_find(tmp_path):
    provider = FakeProvider()
    provider.records["id9"] = {"externalId": "E0", "title": "T0"}  # the create had taken effect
    with Ledger(tmp_path / "s.db") as ledger:
        ledger.begin_intent(
            1,
            provider.ledger_scope,
            row=2,
            key="externalId=E0",
            action="create",
            remote_id=None,
            fields={"externalId": "E0", "title": "T0"},
        )
        ledger.begin_intent(
            1,
            provider.ledger_scope,
            row=3,
            key="externalId=E1",
            action="create",
            remote_id=None,
            fields={"externalId": "E1", "title": "T1"},
        )
        notes = settle_open_intents(provider, ledger, run_id=2)
        assert len(notes) == 2 and "had taken effect (remote id id9)" in notes[0]
        assert "had not taken effect" in notes[1]
        assert ledger.open_intents(provider.ledger_scope) == []
        assert [r.remote_id for r in ledger.records(provider.ledger_scope)] == ["id9"]


def test_ledger_scopes_by_base_url_and_strips_credentials(tmp_path):
    with Ledger(tmp_path / "s.db") as ledger:
        secret = LedgerScope.of("jogg", "https://user:pw@api.example.com/v2/?api_key=SECRET", "user:a")
        ledger.remember(secret, "J1", {"name": "n"})
        public = LedgerScope.of("jogg", "https://api.example.com/v2", "user:a")
        assert public == secret and [r.remote_id for r in ledger.records(public)] == ["J1"]
        assert ledger.records(LedgerScope.of("jogg", "http://127.0.0.1:9", "user:a")) == []
        assert ledger.records(LedgerScope.of("jogg", "https://api.example.com/v2", "user:b")) == []
        mode = ledger.db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    assert (
        b"SECRET" not in (tmp_path / "s.db").read_bytes() and b"pw@" not in (tmp_path / "s.db").read_bytes()
    )


class _SameIdEveryTime(FakeProvider):
    """Creates each record, but answers every create with the first record's id."""

    def create(self, fields):
        super().create(fields)
        return type("W", (), {"remote_id": "id1", "record": None})()


def test_a_create_answered_with_a_known_id_is_unknown_and_never_merged(tmp_path):
    provider = _SameIdEveryTime("jogg", can_lookup=False)
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "jogg", provider.base_url, "c.csv", "upsert")
        result = execute(plan_of(2, "jogg"), provider, ledger, run_id=run, concurrency=1)
        statuses = [o.status for o in result.outcomes]
        assert statuses == ["ok", "unknown"]
        assert "not trusted" in result.outcomes[1].error
        # the second row is not recorded as the first row's product, and is never sent again
        assert [r.remote_id for r in ledger.records(provider.ledger_scope)] == ["id1"]
        assert [u.key_value for u in ledger.unknowns(provider.ledger_scope)] == ["E1"]
    assert provider.writes == 2


def test_a_create_answered_with_a_listed_id_is_settled_by_lookup_not_resent(tmp_path):
    provider = _SameIdEveryTime("royalti")
    provider.records["id1"] = {"externalId": "OLD", "title": "Listed before the run"}
    current = {"id1": Rec("id1", provider.records["id1"], "fp")}
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", provider.base_url, "c.csv", "upsert")
        result = execute(plan_of(1), provider, ledger, run_id=run, concurrency=1, current=current)
        assert [o.status for o in result.outcomes] == ["unknown"]
        assert ledger.records(provider.ledger_scope) == []  # the listed record is not this row's
        notes = settle_open_intents(provider, ledger, run_id=run)  # the next run looks it up
        assert [r.fields["externalId"] for r in ledger.records(provider.ledger_scope)] == ["E0"]
        assert notes
    assert provider.writes == 1  # never sent again


def test_ctrl_c_while_an_outcome_is_being_recorded_still_stops_cleanly(tmp_path):
    """Ctrl+C that lands while the main thread records an outcome (not while it waits) used to
    escape as KeyboardInterrupt: exit 130 and no report (seen once on a loaded machine)."""
    provider = FakeProvider()
    pressed: list[int] = []

    def ctrl_c_once(done: int) -> None:  # called on the main thread as each outcome is recorded
        if not pressed:
            pressed.append(done)
            os.kill(os.getpid(), signal.SIGINT)

    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(plan_of(6), provider, ledger, run_id=run, concurrency=1, on_progress=ctrl_c_once)
        assert result.stopped == "interrupted" and result.signal == "SIGINT"
        statuses = [o.status for o in result.outcomes]
        assert statuses.count("ok") == provider.writes and "skipped" in statuses
        assert len(ledger.outcomes(run)) == 6
        assert ledger.open_intents(provider.ledger_scope) == []
