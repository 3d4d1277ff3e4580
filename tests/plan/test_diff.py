"""build_plan: matching by keys in order, field diffs, blanks, modes, conflicts."""

from __future__ import annotations

import pytest

from catalog_sync.errors import ConfigError, InvalidCatalogError
from catalog_sync.planning.diff import build_plan
from catalog_sync.remote.read import LedgerView
from catalog_sync.spec import load_spec
from catalog_sync.state import Unknown
from tests.support.sync import Rec, make_sheet

ROY = load_spec("royalti")
KEE = load_spec("keevault")
JOGG = load_spec("jogg")


def _actions(plan):
    return {c.row: c.action for c in plan.changes if c.row is not None}


def test_royalti_matches_by_keys_in_order_and_diffs_fields():
    sheet = make_sheet(
        [
            {"id": "", "upc": "012345678905", "externalId": "", "title": "Same", "format": "single"},
            {"id": "", "upc": "", "externalId": "E2", "title": "New title", "format": "EP"},
            {"id": "", "upc": "", "externalId": "E3", "title": "Brand new", "format": "Album"},
        ]
    )
    remote = [
        Rec("r1", {"upc": "012345678905", "title": "Same", "format": "Single"}, "f1"),
        Rec("r2", {"externalId": "E2", "title": "Old title", "format": "EP"}, "f2"),
    ]
    plan = build_plan(sheet, ROY, remote)
    assert _actions(plan) == {2: "unchanged", 3: "update", 4: "create"}
    upd = plan.changes[1]
    assert upd.remote_id == "r2" and upd.match == "externalId" and upd.fingerprint == "f2"
    assert upd.fields == {"title": {"old": "Old title", "new": "New title"}}
    assert upd.key == "externalId=E2"
    create = plan.changes[2]
    assert create.fields == {
        "externalId": {"old": "", "new": "E3"},
        "title": {"old": "", "new": "Brand new"},
        "format": {"old": "", "new": "Album"},
    }
    assert plan.summary == {
        "create": 1,
        "update": 1,
        "unchanged": 1,
        "delete": 0,
        "conflict": 0,
        "protected": 0,
        "skip": 0,
    }


def test_blanks_keep_and_clear():
    sheet = make_sheet([{"id": "r1", "title": "T", "label": ""}])
    remote = [Rec("r1", {"title": "T", "label": "Old label"})]
    assert build_plan(sheet, ROY, remote, blanks="keep").changes[0].action == "unchanged"
    clear = build_plan(sheet, ROY, remote, blanks="clear").changes[0]
    assert clear.action == "update" and clear.fields == {"label": {"old": "Old label", "new": ""}}


def test_absent_column_never_clears():
    sheet = make_sheet([{"id": "r1", "title": "T"}])
    remote = [Rec("r1", {"title": "T", "label": "Kept"})]
    assert build_plan(sheet, ROY, remote, blanks="clear").changes[0].action == "unchanged"


def test_ambiguous_key_and_double_claim_are_conflicts():
    sheet = make_sheet(
        [
            {"product_id": "", "name": "Twin", "description": "d", "external_reference": ""},
            {"product_id": "", "name": "A", "description": "d", "external_reference": "X1"},
            {"product_id": "", "name": "B", "description": "d", "external_reference": "X1b"},
        ]
    )
    remote = [
        Rec("1", {"name": "Twin"}),
        Rec("2", {"name": "Twin"}),
        Rec("3", {"external_reference": "X1", "name": "B"}),
    ]
    plan = build_plan(sheet, KEE, remote)
    acts = _actions(plan)
    assert acts[2] == "conflict" and "2 remote records" in plan.changes[0].reason
    # row 3 matches record 3 by external_reference, row 4 by name: both claim record 3
    assert acts[3] == "conflict" and acts[4] == "conflict"
    assert "rows 3, 4" in plan.changes[1].reason


def test_unknown_remote_id_is_conflict_when_remote_is_complete():
    sheet = make_sheet([{"id": "gone", "title": "T"}])
    change = build_plan(sheet, ROY, []).changes[0]
    assert change.action == "conflict" and "not among" in change.reason


def test_jogg_adopts_unknown_product_id_and_reports_unknown_creates():
    sheet = make_sheet(
        [
            {"product_id": "NEW1", "name": "Filled by user", "url": ""},
            {"product_id": "", "name": "Lost answer", "url": "https://x.example/p"},
            {"product_id": "", "name": "Known", "url": "https://x.example/known"},
        ]
    )
    ledger = [Rec("J1", {"url": "https://x.example/known", "name": "Known"})]
    view = LedgerView(complete=False, unknowns=[Unknown("url", "https://x.example/p", 3)])
    plan = build_plan(sheet, JOGG, ledger, view)
    first, second, third = plan.changes
    assert first.action == "update" and first.remote_id == "NEW1" and first.fields["name"]["old"] == ""
    assert second.action == "conflict" and second.unknown and "--resolve-unknown" in second.reason
    assert third.action == "unchanged" and third.remote_id == "J1" and third.match == "url"


def test_modes_create_update_mirror():
    sheet = make_sheet(
        [{"id": "", "externalId": "E1", "title": "Changed"}, {"id": "", "externalId": "E9", "title": "New"}]
    )
    remote = [Rec("r1", {"externalId": "E1", "title": "Old"}), Rec("r2", {"externalId": "E2", "title": "x"})]
    assert _actions(build_plan(sheet, ROY, remote, mode="create")) == {2: "skip", 3: "create"}
    assert _actions(build_plan(sheet, ROY, remote, mode="update")) == {2: "update", 3: "skip"}
    mirror = build_plan(sheet, ROY, remote, mode="mirror")
    deletes = [c for c in mirror.changes if c.action == "delete"]
    assert [(d.remote_id, d.key) for d in deletes] == [("r2", "id=r2")]
    with pytest.raises(ConfigError, match="mirror"):
        build_plan(sheet, JOGG, [], LedgerView(complete=False), mode="mirror")
    with pytest.raises(InvalidCatalogError, match="empty"):
        build_plan(make_sheet([], columns=["id", "title"]), ROY, remote, mode="mirror")


def test_normalisation_makes_equal_values_equal():
    sheet = make_sheet(
        [
            {
                "product_id": "5",
                "name": "N",
                "description": "D",
                "source": "Internal",
                "require_non_expired": "TRUE",
                "status": "ACTIVE",
            }
        ]
    )
    remote = [
        Rec(
            "5",
            {
                "name": "N",
                "description": "D",
                "source": "internal",
                "require_non_expired": "1",
                "status": "active",
            },
        )
    ]
    assert build_plan(sheet, KEE, remote).changes[0].action == "unchanged"


def test_plan_round_trips_through_json(tmp_path):
    from catalog_sync.planning.model import Plan

    sheet = make_sheet([{"id": "", "externalId": "E1", "title": "T"}])
    plan = build_plan(sheet, ROY, [])
    path = plan.save(tmp_path / "p.json")
    again = Plan.load(path)
    assert again.to_dict() == plan.to_dict()
