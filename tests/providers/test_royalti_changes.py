"""Royalti's listing by what changed last (``RoyaltiProvider.changes_page``), what the write gate's
change watch reasons on: each record's ``updatedAt`` and the listing's record count, or nothing
(None) where an answer does not give them plainly."""

from __future__ import annotations

from typing import Any

import pytest

from catalog_sync.providers.royalti.client import _stamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:00:00.123Z", (1709287200.123, 0.001)),
        ("2024-03-01T10:00:00Z", (1709287200.0, 1.0)),
        ("2024-03-01T12:00:00.5+02:00", (1709287200.5, 0.1)),
    ],
)
def test_an_updated_at_with_its_zone_is_a_time_and_its_precision(text, expected):
    seconds, precision = _stamp(text) or (None, None)
    assert seconds == pytest.approx(expected[0]) and precision == pytest.approx(expected[1])


@pytest.mark.parametrize("text", ["2024-03-01", "2024-03-01T10:00:00", "yesterday", 1709287200, None, ""])
def test_an_updated_at_without_a_zone_or_a_time_is_not_reasoned_on(text):
    assert _stamp(text) is None


def test_the_sandbox_lists_what_changed_last_first_with_its_count(client_factory):
    _sandbox, client = client_factory("royalti")
    made = [client.create({"title": f"Release {i}", "type": "Audio"}).remote_id for i in range(3)]
    client.update(made[0], {"title": "Release 0 again"})
    page = client.changes_page(1, 2)
    assert page is not None
    assert [r.remote_id for r in page.records] == [made[0], made[2]]
    assert page.stamps == sorted(page.stamps, reverse=True) and page.precision == 0.001
    assert (page.total, page.is_last) == (3, False)
    assert client.changes_page(2, 2).is_last


def _listing(**shape: Any) -> Any:
    def respond(method: str, path: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        product = {"id": "p1", "title": "A", "updatedAt": "2024-03-01T10:00:00.000Z"}
        return 200, {"message": "ok", "products": [product], **shape}, {}

    return respond


@pytest.mark.parametrize(
    "shape",
    [
        {"totalPages": 50, "currentPage": 1, "filteredItems": 1},  # the documented example: one page's count
        {"totalPages": 1, "currentPage": 1},  # no count at all
    ],
)
def test_a_page_that_does_not_count_the_whole_listing_is_not_reasoned_on(shape, stand_in, kit, tmp_path):
    from catalog_sync.providers import get_provider

    url = stand_in(_listing(**shape))
    with get_provider("royalti").from_env(
        base_url=url, env={"ROYALTI_API_KEY": kit.KEYS["royalti"]}
    ) as client:
        assert client.changes_page(1, 100) is None


def test_a_count_as_filtered_items_agreeing_with_the_pages_is_taken(stand_in, kit):
    from catalog_sync.providers import get_provider

    url = stand_in(_listing(totalPages=1, currentPage=1, filteredItems=1))
    with get_provider("royalti").from_env(
        base_url=url, env={"ROYALTI_API_KEY": kit.KEYS["royalti"]}
    ) as client:
        page = client.changes_page(1, 100)
        assert page is not None and (page.total, page.is_last) == (1, True)


def test_a_client_knows_no_time_before_its_reads_when_the_answers_carry_no_date(tmp_path):
    from tests.support.fakes import FakeRoyalti, env_for
    from tests.support.hostile_server import HostileServer

    fake = FakeRoyalti(products=[{"id": "p1", "title": "A", "updatedAt": "2024-03-01T10:00:00.000Z"}])
    with HostileServer(fake) as server:  # its answers have no Date header
        from catalog_sync.providers import get_provider

        with get_provider("royalti").from_env(
            base_url=server.url, env=env_for("royalti", server.url, tmp_path)
        ) as client:
            assert len(client.list_remote()) == 1
            assert client.changes_baseline is None and client.server_time is None


def test_a_clients_time_before_its_reads_is_the_first_answers_date_less_its_round_trip(client_factory):
    import time

    _sandbox, client = client_factory("royalti")
    before = time.time()
    client.list_remote()
    after = time.time()
    assert client.changes_baseline is not None and client.server_time is not None
    assert int(before) - (after - before) <= client.changes_baseline <= client.server_time <= after
