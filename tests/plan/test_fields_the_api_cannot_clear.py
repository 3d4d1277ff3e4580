# mypy: disable-error-code="arg-type"
"""A field the provider's API cannot clear is a plan-time problem (issue 17 item 9), never a doomed request.

Royalti takes no empty value for ``type``, dates, years, counts or ``reissue`` (``clearable: false``
in its schema).  Under ``--blanks clear`` an empty cell over a remote value there is refused with
``cannot-clear`` at the cell; a cell with nothing to clear, a create, and ``--blanks keep`` are fine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_sync.errors import ConfigError, InvalidCatalogError
from catalog_sync.planning.diff import build_plan
from catalog_sync.planning.make import recheck_plan
from catalog_sync.planning.merge_base import Base
from catalog_sync.planning.model import Change, Plan
from catalog_sync.providers.royalti.client import RoyaltiProvider
from catalog_sync.spec import load_spec
from catalog_sync.spec.model import apply_house_rules
from tests.support.sync import Rec, make_sheet

ROYALTI = load_spec("royalti")
HELD = {
    "id": "u1",
    "externalId": "E1",
    "title": "T",
    "type": "Audio",
    "releaseDate": "2024-06-15",
    "label": "L",
}


def _refusal(sheet, **options) -> list[tuple]:
    with pytest.raises(InvalidCatalogError) as refused:
        build_plan(sheet, ROYALTI, [Rec("u1", HELD)], **options)
    report = refused.value.context["report"]
    return [(p.cell, p.column, p.code, p.severity) for p in report.problems]


def test_an_empty_cell_over_a_value_the_api_cannot_clear_is_refused_at_its_cell() -> None:
    sheet = make_sheet([{**HELD, "type": "", "releaseDate": "", "label": ""}])
    assert _refusal(sheet, blanks="clear") == [
        ("D2", "type", "cannot-clear", "error"),
        ("E2", "releaseDate", "cannot-clear", "error"),
    ]


def test_what_has_nothing_to_clear_or_is_kept_plans_as_before() -> None:
    nothing_held = Rec("u1", {**HELD, "type": ""})
    sheet = make_sheet([{**HELD, "type": "", "label": ""}])
    (change,) = build_plan(sheet, ROYALTI, [nothing_held], blanks="clear").changes
    assert change.fields == {"label": {"old": "L", "new": ""}}  # type: nothing to clear
    (kept,) = build_plan(sheet, ROYALTI, [Rec("u1", HELD)], blanks="keep").changes
    assert kept.action == "unchanged"
    new = make_sheet([{**HELD, "id": "", "externalId": "E2", "type": ""}])
    assert build_plan(new, ROYALTI, [Rec("u1", HELD)], blanks="clear").changes[0].action == "create"


def test_a_pulled_sheet_whose_cell_was_emptied_is_refused_the_same_way() -> None:
    base = Base("royalti", "http://127.0.0.1:1", "2026-01-01T00:00:00+00:00", {"u1": dict(HELD)})
    sheet = make_sheet([{**HELD, "type": ""}], path="pulled.xlsx")
    assert _refusal(sheet, blanks="clear", base=base) == [("D2", "type", "cannot-clear", "error")]


def test_a_saved_plan_that_would_clear_such_a_field_is_refused_before_any_request() -> None:
    change = Change(
        row=2, key="id=u1", action="update", remote_id="u1", fields={"type": {"old": "Audio", "new": ""}}
    )
    saved = Plan(provider="royalti", catalog="c.csv", mode="upsert", blanks="clear", changes=[change])
    client = RoyaltiProvider.from_env(base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "RWAK_x"})
    with pytest.raises(InvalidCatalogError, match="cannot clear"):
        recheck_plan(saved, client, ledger=None, run_id=1)  # port 9: any request would fail otherwise
    assert client.stats.requests == 0


def test_house_rules_cannot_make_a_field_clearable(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("fields:\n  - name: type\n    clearable: true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="clearable"):
        apply_house_rules(ROYALTI, rules)
    rules.write_text("fields:\n  - name: label\n    clearable: false\n", encoding="utf-8")
    assert not apply_house_rules(ROYALTI, rules).field("label").clearable
