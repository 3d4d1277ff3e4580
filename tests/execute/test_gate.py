# mypy: disable-error-code="arg-type"
"""The write gate's re-read where a lookup lists every record (Keevault): one listing serves the
writes of a few seconds (an injected clock, no waiting)."""

from __future__ import annotations

from catalog_sync.errors import RemoteChangedError
from catalog_sync.execute.gate import REREAD_WINDOW, Write, WriteGate
from tests.support.fake_provider import FakeProvider
from tests.support.sync import Rec


class _ListingOnly(FakeProvider):
    lookup_lists_all = True

    def __init__(self) -> None:
        super().__init__("keevault")
        self.listings = 0

    def list_remote(self):
        self.listings += 1
        return [Rec(rid, dict(fields), "fp") for rid, fields in self.records.items()]


def _updates(provider: _ListingOnly, times: list[float]) -> None:
    now = [0.0]
    gate = WriteGate(provider, clock=lambda: now[0])
    for rid, at in zip(list(provider.records), times, strict=True):
        now[0] = at
        read = Rec(rid, dict(provider.records[rid]), "fp")
        gate.send(Write("update", {"description": f"new {rid}"}, remote_id=rid, read=read))


def test_one_listing_serves_the_writes_of_the_window() -> None:
    provider = _ListingOnly()
    provider.records = {
        str(i): {"product_id": str(i), "name": f"P{i}", "description": "old"} for i in range(4)
    }
    _updates(provider, [0.0, 0.5, REREAD_WINDOW + 1, REREAD_WINDOW + 1.5])
    assert provider.listings == 2 and provider.writes == 4


def test_a_record_changed_after_the_listing_was_read_is_still_a_conflict() -> None:
    provider = _ListingOnly()
    provider.records = {"7": {"product_id": "7", "name": "P7", "description": "old", "source": "internal"}}
    read = Rec("7", dict(provider.records["7"]), "fp")
    provider.records["7"]["source"] = "envato"  # a colleague, after the plan read it
    gate = WriteGate(provider, clock=lambda: 0.0)
    try:
        gate.send(Write("update", {"description": "new"}, remote_id="7", read=read))
    except RemoteChangedError as exc:
        assert "source 'internal' → 'envato'" in exc.message
    else:
        raise AssertionError("the update was sent over a change it did not see")
    assert provider.writes == 0
