"""The out-of-core plan reads a listing through the client's own read (``Provider.list_into``), only
sinking its pages to disk: the same requests, checks and refusals as a plan in memory, over real HTTP
against scripted Royalti servers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.providers import get_provider
from tests.support.fakes import FakeRoyalti, env_for, royalti_catalog, run_cli
from tests.support.hostile_server import HostileServer

ROWS = [{"externalId": f"EXT-{i}", "title": f"Release {i}"} for i in range(3)]
PRODUCTS = [{"id": f"u{i}", "title": "t"} for i in range(250)]


def _plan(tmp_path: Path, url: str, engine: str) -> Any:
    catalog = royalti_catalog(tmp_path, ROWS)
    args = ["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db"), "--rate", "1000"]
    return run_cli([*args, "--engine", engine], env_for("royalti", url, tmp_path))


def _always_moving(page: int, good: dict[str, Any]) -> dict[str, Any]:
    if page == 2:
        return {**good, "totalPages": good["totalPages"] + 1, "total": good["total"] + 100}
    return good


def _u99_twice(page: int, good: dict[str, Any]) -> dict[str, Any]:
    if page == 2:  # a record created at the front pushed u99 onto page 2: u99 twice, one record unseen
        return {**good, "products": [PRODUCTS[99], *good["products"][:-1]]}
    return good


@pytest.mark.parametrize("engine", ["memory", "disk"])
def test_a_listing_that_keeps_moving_is_refused_alike_by_either_engine(tmp_path: Path, engine: str) -> None:
    fake = FakeRoyalti(products=PRODUCTS, list_body=_always_moving)
    with HostileServer(fake) as server:
        shown = _plan(tmp_path, server.url, engine)
        assert shown.exit_code == 1
        assert (
            "Royalti GET /product/: the listing changed while it was read, 3 times in a row" in shown.stderr
        )
        assert server.paths().count("GET /product/") == 9  # 3 pages, read three times


@pytest.mark.parametrize("engine", ["memory", "disk"])
def test_a_record_on_two_pages_is_named_by_either_engine(tmp_path: Path, engine: str) -> None:
    with HostileServer(FakeRoyalti(products=PRODUCTS, list_body=_u99_twice)) as server:
        shown = _plan(tmp_path, server.url, engine)
        assert shown.exit_code == 1
        assert "record u99 came on two pages" in shown.stderr


def test_a_listing_is_read_ahead_by_a_bounded_window_not_all_at_once() -> None:
    """The pages asked for run at most ``ahead`` beyond the one being taken: a ten-million-record
    listing streams instead of being asked for (and held) whole."""
    client = get_provider("royalti").from_env(
        base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "RWAK_x"}, concurrency=4
    )
    asked: list[int] = []
    lock = threading.Lock()

    def fetch(number: int) -> int:
        with lock:
            asked.append(number)
        return number

    def pages() -> Any:
        yield from range(1, 1001)

    stream = client.stream_concurrently(fetch, pages(), ahead=8)
    assert next(stream) == 1
    with lock:
        assert 1 <= len(asked) <= 9
    assert list(stream) == list(range(2, 1001))
