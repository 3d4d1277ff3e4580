# mypy: disable-error-code="arg-type"
"""Round-2 review, unit level: limit boundaries and the diff's blank/key rules."""

from __future__ import annotations

import pytest

from catalog_sync.errors import FatalProviderError
from catalog_sync.execute.executor import execute
from catalog_sync.planning.diff import build_plan
from catalog_sync.planning.recheck import recheck_saved_plan
from catalog_sync.remote.read import LedgerView
from catalog_sync.run.outcome import exit_code_for
from catalog_sync.spec import load_spec
from catalog_sync.state import Ledger
from tests.support.fake_provider import FakeProvider, plan_of
from tests.support.sync import Rec, make_sheet


def test_max_failures_reached_on_the_last_write_is_exit_4_not_6(tmp_path):
    provider = FakeProvider(refuse={3, 4})  # the last two of four writes fail
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(plan_of(4), provider, ledger, run_id=run, concurrency=1, max_failures=2)
        assert [o.status for o in result.outcomes] == ["ok", "ok", "failed", "failed"]
        assert result.stopped == ""  # nothing was left to stop
        assert exit_code_for(result, 2)[0] == 4


def test_max_failures_with_work_left_is_exit_6(tmp_path):
    provider = FakeProvider(refuse={2, 3})
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(plan_of(4), provider, ledger, run_id=run, concurrency=1, max_failures=2)
        assert [o.status for o in result.outcomes] == ["ok", "failed", "failed", "skipped"]
        assert exit_code_for(result, 2)[0] == 6


def test_blanks_clear_clears_fields_but_not_keys():
    spec = load_spec("keevault")
    remote = [
        Rec(
            "5",
            {
                "product_id": "5",
                "name": "A",
                "description": "d",
                "source": "internal",
                "require_non_expired": "1",
                "external_reference": "REF-1",
                "status": "active",
            },
        )
    ]
    row = {**remote[0].fields, "external_reference": ""}
    sheet = make_sheet([row])
    keep = build_plan(sheet, spec, remote, blanks="keep")
    clear = build_plan(sheet, spec, remote, blanks="clear")
    assert keep.changes[0].action == clear.changes[0].action == "unchanged"
    royalti = load_spec("royalti")
    remote = [Rec("u1", {"id": "u1", "upc": "TEMPu1", "externalId": "E", "title": "T", "label": "L"})]
    sheet = make_sheet([{"id": "u1", "upc": "", "externalId": "E", "title": "T", "label": ""}])
    change = build_plan(sheet, royalti, remote, blanks="clear").changes[0]
    assert change.action == "update" and change.fields == {"label": {"old": "L", "new": ""}}


def test_jogg_url_cannot_be_updated_so_it_is_never_claimed():
    spec = load_spec("jogg")
    known = {"product_id": "J1", "url": "https://s.example.com/a", "name": "Alpha", "description": "d"}
    remote = [Rec("J1", known)]
    view = LedgerView(complete=False)
    only_url = make_sheet([{**known, "url": "https://s.example.com/a2"}])
    change = build_plan(only_url, spec, remote, view).changes[0]
    assert change.action == "skip" and change.fields == {}
    assert "cannot change the url" in change.reason and "https://s.example.com/a'" in change.reason
    # matched by name only, a different url is another product's: a conflict, nothing sent (issue 7.12)
    by_name = make_sheet(
        [{**known, "product_id": "", "url": "https://s.example.com/a2", "description": "new"}]
    )
    change = build_plan(by_name, spec, remote, view).changes[0]
    assert change.action == "conflict" and "url 'https://s.example.com/a2' contradicts" in change.reason
    both = make_sheet([{**known, "url": "https://s.example.com/a2", "description": "new"}])
    change = build_plan(both, spec, remote, view).changes[0]
    assert change.action == "update" and change.payload == {"description": "new"}
    assert "cannot change the url" in change.reason
    adopted = make_sheet([{**known, "product_id": "J9", "name": "Other", "url": "https://s.example.com/z"}])
    change = build_plan(adopted, spec, remote, view).changes[0]  # an id the ledger does not know
    assert change.action == "update" and "url" not in change.fields and not change.reason


@pytest.mark.slow
def test_plan_of_55k_rows_against_50k_records_is_exact():
    # its speed is a figure of `make bench`, never a timed assertion here
    spec = load_spec("royalti")
    n = 50_000
    base = {
        "id": "",
        "displayArtist": "Band",
        "type": "Audio",
        "format": "Single",
        "releaseDate": "2024-01-02",
    }
    rows = [
        {**base, "externalId": f"EXT-{i}", "title": f"T {i}" + ("x" if i % 10 == 0 else "")} for i in range(n)
    ]
    rows += [{**base, "externalId": f"NEW-{i}", "title": f"N {i}"} for i in range(5_000)]
    remote = [
        Rec(f"id-{i}", {**base, "id": f"id-{i}", "externalId": f"EXT-{i}", "title": f"T {i}"}, f"fp{i}")
        for i in range(n + 100)
    ]
    sheet = make_sheet(rows)
    plan = build_plan(sheet, spec, remote, mode="mirror")
    assert plan.summary == {
        "create": 5_000,
        "update": 5_000,
        "unchanged": 45_000,
        "delete": 100,
        "conflict": 0,
        "protected": 0,
        "skip": 0,
    }
    update = next(c for c in plan.changes if c.action == "update")
    assert update.fields == {"title": {"old": "T 0", "new": "T 0x"}} and update.fingerprint == "fp0"


class _RefusingJogg(FakeProvider):
    """JoggAI refusing the key: business code 10105 inside an HTTP 200 answer."""

    def create(self, fields):
        self._write()
        raise FatalProviderError("JoggAI refused the API key (code 10105)", code=10105, status=200)


class _GarbledAnswer(FakeProvider):
    """The write was processed but the answer makes no sense (contract broken)."""

    def update(self, remote_id, fields, current):
        self._write()
        self.records[remote_id].update(fields)
        raise FatalProviderError("unexpected answer", code="contract", status=200)


def test_a_refused_key_fails_the_row_and_leaves_no_unknown(tmp_path):
    provider = _RefusingJogg("jogg", can_lookup=False)
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "jogg", "x", "c", "upsert")
        result = execute(plan_of(3, "jogg"), provider, ledger, run_id=run, concurrency=1)
        assert [o.status for o in result.outcomes] == ["failed", "skipped", "skipped"]
        assert result.outcomes[0].error_code == "10105" and result.stopped == "fatal"
        assert ledger.open_intents(provider.ledger_scope) == []
        assert ledger.unknowns(provider.ledger_scope) == []  # nothing to resolve by hand later


def test_a_garbled_answer_to_an_update_is_unknown_not_failed(tmp_path):
    provider = _GarbledAnswer()
    provider.records["id1"] = {"externalId": "E0", "title": "old"}
    plan = plan_of(1)
    plan.changes[0].action, plan.changes[0].remote_id = "update", "id1"
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(plan, provider, ledger, run_id=run, concurrency=1)
        assert result.outcomes[0].status == "unknown"  # it may have taken effect (it did)
        assert provider.records["id1"]["title"] == "T0"


def test_a_saved_jogg_plan_applied_again_never_resends_a_create_whose_answer_was_lost(tmp_path):
    provider = FakeProvider("jogg", can_lookup=False, lose={1})
    with Ledger(tmp_path / "s.db") as ledger:
        first = execute(plan_of(2, "jogg"), provider, ledger, run_id=1, concurrency=1)
        assert [o.status for o in first.outcomes] == ["unknown", "ok"]
        again = plan_of(2, "jogg")  # the same saved plan, applied a second time
        recheck_saved_plan(again, provider, ledger)
        assert [c.action for c in again.changes] == ["conflict", "unchanged"]
        assert again.changes[0].unknown and "--resolve-unknown" in again.changes[0].reason
        second = execute(again, provider, ledger, run_id=2, concurrency=1)
        assert [o.status for o in second.outcomes] == ["unknown", "ok"]
        assert provider.writes == 2  # nothing was sent twice
