"""The write gate's look at what changed (``execute/changes.py``), over real HTTP against the Royalti
sandbox: one listing by ``updatedAt`` answers for many writes, and a colleague's edit is still a
conflict wherever it falls: just before a look, stamped on the cursor's own time or a little before
it, or moved to the top while a look pages.  Answers the reasoning cannot rest on fall back to one
GET per record.  The watch's clock is injected (no waiting); stamps are set in the sandbox's store
where a test needs one exactly."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any

import pytest

from catalog_sync.errors import RemoteChangedError
from catalog_sync.execute.changes import PAGE_SIZE
from catalog_sync.execute.gate import REREAD_WINDOW, Write, WriteGate
from catalog_sync.providers import get_provider
from catalog_sync.providers.base import ChangesPage
from catalog_sync.providers.royalti.client import RoyaltiProvider
from catalog_sync.providers.royalti.emulator import NULL_FIELDS
from catalog_sync.sandbox import Sandbox
from catalog_sync.sandbox.server import SandboxHandler
from tests.support.sync import KEYS

#: When the seeded records last changed (long before the test: a run's reads are newer).
SEEDED = datetime(2024, 1, 1, tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _seed(sb: Sandbox, count: int) -> list[str]:
    """``count`` products, the later the newer (a millisecond apart); their ids, oldest first."""
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(count)]
    with sb.emulator.lock:
        for i, rid in enumerate(ids):
            stamp = _iso(SEEDED + timedelta(milliseconds=i))
            product: dict[str, Any] = dict.fromkeys(NULL_FIELDS)
            product.update({"id": rid, "upc": f"TEMP{rid[:12]}", "title": f"Release {i}", "type": "Audio"})
            product.update({"label": "Ours", "createdAt": stamp, "updatedAt": stamp, "metadata": {}})
            sb.emulator.store.put("products", rid, product)
    return ids


def _edit_in_store(sb: Sandbox, rid: str, stamp: datetime | None = None, **fields: Any) -> None:
    """A colleague's edit, stamped ``stamp`` (now when None): as a server whose clock says so."""
    with sb.emulator.lock:
        product = sb.emulator.store.get("products", rid)
        assert product is not None
        when = _iso(stamp) if stamp is not None else _iso(datetime.now(UTC))
        sb.emulator.store.put("products", rid, {**product, **fields, "updatedAt": when})


def _stamp_of(sb: Sandbox, rid: str) -> datetime:
    with sb.emulator.lock:
        product = sb.emulator.store.get("products", rid)
    assert product is not None
    return datetime.fromisoformat(product["updatedAt"])


class _Paging(RoyaltiProvider):
    """The Royalti client with a hook run before each page of a look (a colleague acting meanwhile)."""

    before_page: Callable[[int], None] | None = None

    def changes_page(self, number: int, size: int) -> ChangesPage | None:
        if self.before_page is not None and size == PAGE_SIZE:
            self.before_page(number)
        return super().changes_page(number, size)


@contextmanager
def _run_client(
    count: int, klass: type[RoyaltiProvider] = RoyaltiProvider
) -> Iterator[tuple[Sandbox, Any, dict]]:
    """A Royalti sandbox holding ``count`` products, a run's client (writes through the gate only)
    and what it listed, by id."""
    with Sandbox("royalti", api_key=KEYS["royalti"], seed=1, env={}) as sb:
        _seed(sb, count)
        client: Any = klass.from_env(base_url=sb.url, env={"ROYALTI_API_KEY": KEYS["royalti"]}, rate=1000)
        client.require_write_gate()
        with client:
            listed = {r.remote_id: r for r in client.list_remote()}
            yield sb, client, listed


def _gate(client: Any) -> tuple[WriteGate, list[float]]:
    now = [0.0]
    return WriteGate(client, clock=lambda: now[0]), now


def _update(gate: WriteGate, listed: dict, rid: str, title: str) -> Any:
    return gate.carry(Write("update", {"title": title}, remote_id=rid, read=listed[rid]))


def _gets_by_id(sb: Sandbox) -> int:
    return int(sb.stats()["requests"].get("GET /product/{id}", 0))


def _label(sb: Sandbox, rid: str) -> str:
    with sb.emulator.lock:
        product = sb.emulator.store.get("products", rid)
    assert product is not None
    return str(product["label"])


def test_one_look_serves_the_writes_of_its_window_and_a_colleagues_edit_just_before_it_is_a_conflict():
    with _run_client(20) as (sb, client, listed):
        ids = list(listed)
        with get_provider("royalti").from_env(
            base_url=sb.url, env={"ROYALTI_API_KEY": KEYS["royalti"]}
        ) as them:
            them.update(ids[3], {"label": "Theirs"}, listed[ids[3]])  # after the plan's read, before the look
        gate, _now = _gate(client)
        sent = []
        for rid in ids[:8]:
            try:
                sent.append(_update(gate, listed, rid, f"New {rid[-2:]}").sent)
            except RemoteChangedError as exc:
                assert rid == ids[3] and "label 'Ours' → 'Theirs'" in exc.message
        assert sent == [True] * 7
        assert _label(sb, ids[3]) == "Theirs"  # never written over
        assert (gate.changes.looks, gate.changes.trusted) == (1, 1)
        assert _gets_by_id(sb) == 0  # not one GET per record: the look answered for all eight


def test_a_record_this_run_wrote_is_looked_up_by_id_when_written_again():
    with _run_client(5) as (sb, client, listed):
        rid = next(iter(listed))
        gate, _now = _gate(client)
        _update(gate, listed, rid, "First")
        assert _gets_by_id(sb) == 0
        written = _update(gate, listed, rid, "First")  # a resend: its own write moved it
        assert written.sent is False and _gets_by_id(sb) == 1


def _bulk_edit_after_a_look(
    sb: Sandbox, client: Any, listed: dict, bulk: Callable[[int], float], target: float
) -> Any:
    """Two looks, the second's cursor the time ``T`` of the newest change it lists (ten seconds ago:
    the sandbox's ``Date`` runs ten seconds behind, so the run's reads bound nothing later); then 120
    records edited at ``T + bulk(i)`` seconds and the record to write at ``T + target`` (a colleague's
    label): stamps a server with several clocks could give.  The write after it, in the third look's
    window, is a conflict; the gate is handed back."""
    ids = list(listed)
    gate, now = _gate(client)
    _update(gate, listed, ids[0], "New 0")  # the first look, then a write of ours
    cursor = gate.changes.cursor
    assert cursor is not None
    newest = datetime.fromtimestamp(math.ceil(cursor * 1000 + 1) / 1000, UTC)
    _edit_in_store(sb, ids[0], newest)  # the newest change the second look lists: its cursor
    now[0] = REREAD_WINDOW
    _update(gate, listed, ids[1], "New 1")  # the second look, then a write of ours
    assert gate.changes.cursor == _stamp_of(sb, ids[0]).timestamp()
    for i, rid in enumerate(ids[100:220]):
        _edit_in_store(sb, rid, newest + timedelta(seconds=bulk(i)))
    _edit_in_store(sb, ids[2], newest + timedelta(seconds=target), label="Theirs")
    now[0] = 2 * REREAD_WINDOW  # the second look has served its window: the next write looks again
    with pytest.raises(RemoteChangedError, match="'Ours' → 'Theirs'"):
        _update(gate, listed, ids[2], "New 2")
    return gate


@pytest.fixture
def date_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's answers say a ``Date`` ten seconds behind its clock."""
    monkeypatch.setattr(
        SandboxHandler,
        "date_time_string",
        lambda self, timestamp=None: formatdate((timestamp or time.time()) - 10, usegmt=True),
    )


class _Exact(RoyaltiProvider):
    """A Royalti whose stamps need no tolerance (stamped and committed in one step, as the sandbox)."""

    change_tolerance = 0.0


def test_an_edit_stamped_on_the_cursors_own_time_is_seen_past_the_first_page(date_behind):
    # 121 records stamped on the cursor's millisecond: the record edited sorts last among them, on
    # page 2; page 1 ends on the cursor's own time, so the look reads on (even with no tolerance)
    with _run_client(300, _Exact) as (sb, client, listed):
        gate = _bulk_edit_after_a_look(sb, client, listed, lambda i: 0.0, 0.0)
        assert gate.changes.trusted == 3 and _gets_by_id(sb) == 0


def test_an_edit_stamped_a_little_before_the_cursor_by_a_slow_clock_is_seen(date_behind):
    # committed after the first look, stamped before its newest change (within the tolerance): 120
    # records stamped between the two push it onto page 2, which the look reads for the tolerance
    with _run_client(300) as (sb, client, listed):
        assert client.change_tolerance > 0.4
        gate = _bulk_edit_after_a_look(sb, client, listed, lambda i: -0.3 * i / 120, -0.4)
        assert gate.changes.trusted == 3 and _gets_by_id(sb) == 0


def test_a_record_edited_before_a_paged_look_and_again_while_it_pages_is_a_conflict(date_behind):
    # 250 records changed since the plan's read: the look pages (3 pages).  The record edited before
    # the look sits on page 3; edited again while page 2 is read, it moves to page 1, already read,
    # and is on no page of the look: page 1 read again at the end (one answer) has it.
    with _run_client(250, _Paging) as (sb, client, listed):
        ids = list(listed)
        base = datetime.now(UTC) - timedelta(seconds=3)
        for i, rid in enumerate(ids):  # a bulk edit by someone, after the plan's read
            fields = {"label": "Theirs"} if i == 20 else {}
            _edit_in_store(sb, rid, base + timedelta(milliseconds=10 * i), **fields)
        moving = ids[20]  # 230th newest: page 3

        def meanwhile(number: int) -> None:
            if number == 2 and not meanwhile.done:  # type: ignore[attr-defined]
                meanwhile.done = True  # type: ignore[attr-defined]
                _edit_in_store(sb, moving, label="Theirs again")

        meanwhile.done = False  # type: ignore[attr-defined]
        client.before_page = meanwhile
        gate, _now = _gate(client)
        with pytest.raises(RemoteChangedError, match="'Ours' → 'Theirs again'"):
            _update(gate, listed, moving, "Mine")
        assert gate.changes.trusted == 1 and _gets_by_id(sb) == 0
        assert _label(sb, moving) == "Theirs again"


def test_a_record_deleted_while_a_look_pages_makes_the_look_untrusted_and_the_write_looks_up(date_behind):
    # the record edited is the first of page 2; one on page 1 is deleted before page 2 is read: every
    # record after it moves up a place, the edited one onto page 1, already read (on no page)
    with _run_client(250, _Paging) as (sb, client, listed):
        ids = list(listed)
        base = datetime.now(UTC) - timedelta(seconds=3)
        for i, rid in enumerate(ids):  # newest last: ids[149] is the 101st newest
            fields = {"label": "Theirs"} if i == 149 else {}
            _edit_in_store(sb, rid, base + timedelta(milliseconds=10 * i), **fields)

        def meanwhile(number: int) -> None:
            if number == 2 and ids[200] in {p["id"] for p in sb.state()["products"]}:
                with sb.emulator.lock:
                    sb.emulator.store.delete("products", ids[200])

        client.before_page = meanwhile
        gate, _now = _gate(client)
        with pytest.raises(RemoteChangedError, match="'Ours' → 'Theirs'"):
            _update(gate, listed, ids[149], "Mine")
        assert (gate.changes.looks, gate.changes.trusted) == (1, 0)
        assert _gets_by_id(sb) == 1  # the look could not be trusted: looked up by id


def test_a_record_deleted_since_it_was_read_is_a_conflict_not_a_failure():
    with _run_client(5) as (sb, client, listed):
        ids = list(listed)
        with sb.emulator.lock:
            sb.emulator.store.delete("products", ids[2])
        gate, _now = _gate(client)
        _update(gate, listed, ids[0], "New 0")
        with pytest.raises(RemoteChangedError, match="deleted since it was read") as caught:
            _update(gate, listed, ids[2], "New 2")
        assert caught.value.code == "remote-changed"
        assert ids[2] not in {p["id"] for p in sb.state()["products"]}  # nothing created in its place


def _without_updated_at(emulator: Any) -> None:
    """The emulator's list answers lose ``updatedAt`` (a server that leaves it out)."""
    view = emulator._view
    emulator._view = lambda product: {k: v for k, v in view(product).items() if k != "updatedAt"}


def test_a_listing_without_updated_at_turns_the_watch_off_and_each_write_looks_up():
    with _run_client(6) as (sb, client, listed):
        _without_updated_at(sb.emulator)
        gate, _now = _gate(client)
        for rid in listed:
            _update(gate, listed, rid, "New")
        assert (gate.changes.looks, gate.changes.trusted, gate.changes.on) == (1, 0, False)
        assert _gets_by_id(sb) == 6
