"""Round-2 review, unit level: limit boundaries and the diff's blank/key rules."""

from __future__ import annotations

from sync_helpers import Rec, make_sheet
from test_executor import FakeProvider, _plan

from catalog_sync.apply.executor import execute
from catalog_sync.apply.service import exit_code_for
from catalog_sync.plan.diff import LedgerView, build_plan
from catalog_sync.spec import load_spec
from catalog_sync.state import Ledger


def test_max_failures_reached_on_the_last_write_is_exit_4_not_6(tmp_path):
    provider = FakeProvider(refuse={3, 4})  # the last two of four writes fail
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(_plan(4), provider, ledger, run_id=run, concurrency=1, max_failures=2)
        assert [o.status for o in result.outcomes] == ["ok", "ok", "failed", "failed"]
        assert result.stopped == ""  # nothing was left to stop
        assert exit_code_for(result, 2)[0] == 4


def test_max_failures_with_work_left_is_exit_6(tmp_path):
    provider = FakeProvider(refuse={2, 3})
    with Ledger(tmp_path / "s.db") as ledger:
        run = ledger.start_run("apply", "royalti", "x", "c", "upsert")
        result = execute(_plan(4), provider, ledger, run_id=run, concurrency=1, max_failures=2)
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
    only_url = make_sheet([{**known, "product_id": "", "url": "https://s.example.com/a2"}])
    change = build_plan(only_url, spec, remote, view).changes[0]
    assert change.action == "skip" and change.fields == {}
    assert "cannot change the url" in change.reason and "https://s.example.com/a'" in change.reason
    both = make_sheet([{**known, "url": "https://s.example.com/a2", "description": "new"}])
    change = build_plan(both, spec, remote, view).changes[0]
    assert change.action == "update" and change.payload == {"description": "new"}
    assert "cannot change the url" in change.reason
    adopted = make_sheet([{**known, "product_id": "J9", "name": "Other", "url": "https://s.example.com/z"}])
    change = build_plan(adopted, spec, remote, view).changes[0]  # an id the ledger does not know
    assert change.action == "update" and "url" not in change.fields and not change.reason
