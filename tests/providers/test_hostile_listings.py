# mypy: disable-error-code="list-item"
"""Hostile list answers (issue 7 items 1 and 2): a contract error, never a plan built on them.

Over real HTTP against scripted servers: records without a usable id, lists of the wrong
shape, a billion pages, pages that never end, a listing that moves while it is read.
Nothing is ever sent to a path without an id; a mirror run on such an answer deletes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from catalog_sync.errors import FatalProviderError
from catalog_sync.providers import get_provider
from tests.support.fakes import (
    FakeKeevault,
    FakeRoyalti,
    assert_clean,
    env_for,
    keevault_catalog,
    royalti_catalog,
    run_child,
    run_cli,
)
from tests.support.hostile_server import HostileServer

ROWS = [{"externalId": f"EXT-{i}", "title": f"Release {i}"} for i in range(3)]
REMOTE = [{"id": f"uuid-{i}", "externalId": f"OLD-{i}", "title": f"Old {i}"} for i in range(4)]


def _mangled(products: list[dict[str, Any]]) -> dict[str, Any]:
    return {"products": products, "totalPages": 1, "total": len(products)}


BAD_LISTS = {
    "id-null": lambda page, body: _mangled([{**p, "id": None} for p in REMOTE]),
    "id-missing": lambda page, body: _mangled([{k: v for k, v in p.items() if k != "id"} for p in REMOTE]),
    "_id-instead": lambda page, body: _mangled([{"_id": p["id"], "title": p["title"]} for p in REMOTE]),
    "id-empty": lambda page, body: _mangled([{**p, "id": ""} for p in REMOTE]),
    "id-a-path": lambda page, body: _mangled([{**p, "id": "../../admin"} for p in REMOTE]),
    "id-an-object": lambda page, body: _mangled([{**p, "id": {"uuid": 1}} for p in REMOTE]),
    "products-an-object": lambda page, body: {"products": {"a": REMOTE[0]}, "totalPages": 1},
    "a-bare-list": lambda page, body: REMOTE,
    "no-list-at-all": lambda page, body: {"message": "ok", "totalPages": 1},
    "record-not-an-object": lambda page, body: _mangled(["uuid-1", "uuid-2"]),
}


@pytest.mark.parametrize("case", sorted(BAD_LISTS))
def test_a_royalti_list_without_usable_ids_stops_plan_and_mirror_with_nothing_sent(case, tmp_path):
    fake = FakeRoyalti(products=[dict(p) for p in REMOTE], list_body=BAD_LISTS[case])
    catalog = royalti_catalog(tmp_path, ROWS)
    with HostileServer(fake) as server:
        env = env_for("royalti", server.url, tmp_path)
        base = ["-p", "royalti", "--state", str(tmp_path / "s.db"), "--rate", "1000"]
        plan = run_cli(["plan", str(catalog), *base], env)
        mirror = run_cli(
            ["apply", str(catalog), *base, "--mode", "mirror", "--max-deletes", "10", "--yes"], env
        )
        for result in (plan, mirror):
            assert result.exit_code == 1, (case, result.output)
            assert "unexpected answer" in result.stderr, result.stderr
            assert_clean(result.output)
        assert fake.writes == []  # no DELETE /product/, no PUT /product/, no duplicate POST
        assert all(p.startswith("GET /product/") for p in server.paths())


def test_a_keevault_product_without_an_id_stops_the_run(tmp_path):
    fake = FakeKeevault(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    fake.products = [{"name": "Stray", "description": "x", "source": "internal", "status": "active"}]
    catalog = keevault_catalog(tmp_path, ["Alpha", "Beta"])
    with HostileServer(fake) as server:
        env = env_for("keevault", server.url, tmp_path, fake.pem(tmp_path))
        result = run_cli(
            [
                "apply",
                str(catalog),
                "-p",
                "keevault",
                "--state",
                str(tmp_path / "s.db"),
                "--mode",
                "mirror",
                "--max-deletes",
                "5",
                "--yes",
            ],
            env,
        )
        assert result.exit_code == 1, result.output
        assert "no usable id (missing)" in result.stderr
        assert fake.writes == []


def test_no_write_goes_to_a_path_without_an_id(tmp_path):
    client = get_provider("royalti").from_env(
        base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "RWAK_x"}
    )
    for bad in ("", None, " uuid ", "a/b", "../x", "x?y=1", "x#y", "\x1b[2J"):
        with pytest.raises(Exception) as info:
            client.delete(bad)  # type: ignore[arg-type]
        assert getattr(info.value, "code", None) == "no-remote-id", bad
    assert client.stats.requests == 0


def test_a_billion_pages_are_refused_after_page_one_in_bounded_memory(tmp_path):
    fake = FakeRoyalti(
        list_body=lambda page, body: {**body, "products": [dict(REMOTE[0])], "totalPages": 10**9}
    )
    catalog = royalti_catalog(tmp_path, ROWS)
    with HostileServer(fake) as server:
        child = run_child(
            ["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db")],
            env_for("royalti", server.url, tmp_path),
            timeout=120,
        )
        assert child.code == 1, child.stderr
        assert "1,000,000,000 pages" in child.stderr and "--max-pages" in child.stderr
        assert child.max_rss_mb < 1024, child.max_rss_mb
        assert server.paths() == ["GET /product/"]


def test_pages_that_never_end_stop_at_the_page_limit(tmp_path):
    def endless(page: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"products": [{"id": f"p{page}-{i}", "title": "t"} for i in range(100)]}  # no totals, ever new

    with HostileServer(FakeRoyalti(list_body=endless)) as server:
        client = get_provider("royalti").from_env(
            base_url=server.url, env={"ROYALTI_API_KEY": "RWAK_x"}, rate=1000, max_pages=30
        )
        with pytest.raises(FatalProviderError, match="--max-pages") as info:
            client.list_remote()
        assert "kept bringing new records for 30 pages" in str(info.value)
        assert len(server.paths()) == 30


def test_too_many_records_are_refused_with_the_way_to_raise_the_limit(tmp_path):
    fake = FakeRoyalti(products=[{"id": f"u{i}", "title": "t"} for i in range(250)])
    with HostileServer(fake) as server:
        client = get_provider("royalti").from_env(
            base_url=server.url, env={"ROYALTI_API_KEY": "RWAK_x"}, rate=1000, max_records=200
        )
        with pytest.raises(FatalProviderError, match="--max-records"):
            client.list_remote()
        assert len(server.paths()) == 1
        raised = get_provider("royalti").from_env(
            base_url=server.url, env={"ROYALTI_API_KEY": "RWAK_x"}, rate=1000, max_records=300
        )
        assert len(raised.list_remote()) == 250


def _moving(times: int):
    """A list whose counts change between pages during its first ``times`` reads."""
    reads = {"n": 0}

    def body(page: int, good: dict[str, Any]) -> dict[str, Any]:
        if page == 1:
            reads["n"] += 1
        if reads["n"] <= times and page == 2:
            return {**good, "totalPages": good["totalPages"] + 1, "total": good["total"] + 100}
        return good

    return body


def test_a_listing_that_moves_once_is_read_again(tmp_path):
    fake = FakeRoyalti(products=[{"id": f"u{i}", "title": "t"} for i in range(250)], list_body=_moving(1))
    with HostileServer(fake) as server:
        client = get_provider("royalti").from_env(
            base_url=server.url, env={"ROYALTI_API_KEY": "RWAK_x"}, rate=1000
        )
        assert len(client.list_remote()) == 250
        assert server.paths().count("GET /product/") == 6  # 3 pages, read twice


def test_a_listing_that_keeps_moving_is_refused_and_nothing_is_planned(tmp_path):
    fake = FakeRoyalti(products=[{"id": f"u{i}", "title": "t"} for i in range(250)], list_body=_moving(99))
    catalog = royalti_catalog(tmp_path, ROWS)
    with HostileServer(fake) as server:
        result = run_cli(
            [
                "apply",
                str(catalog),
                "-p",
                "royalti",
                "--state",
                str(tmp_path / "s.db"),
                "--rate",
                "1000",
                "--yes",
            ],
            env_for("royalti", server.url, tmp_path),
        )
        assert result.exit_code == 1
        assert "changed while it was read, 3 times" in result.stderr
        assert fake.writes == []


def test_a_record_on_two_pages_means_the_listing_moved(tmp_path):
    products = [{"id": f"u{i}", "title": "t"} for i in range(150)]

    def shifted(page: int, good: dict[str, Any]) -> dict[str, Any]:
        if page == 2:  # a record created at the front pushed u99 onto page 2: u99 twice, one record unseen
            return {**good, "products": [products[99], *good["products"][:-1]]}
        return good

    with HostileServer(FakeRoyalti(products=products, list_body=shifted)) as server:
        client = get_provider("royalti").from_env(
            base_url=server.url, env={"ROYALTI_API_KEY": "RWAK_x"}, rate=1000
        )
        with pytest.raises(FatalProviderError, match="record u99 came on two pages"):
            client.list_remote()


def test_pages_after_the_first_are_fetched_concurrently(tmp_path):
    """Page 2's answer waits until page 3 was asked for: only a concurrent read gets both."""
    import threading

    page3_asked = threading.Event()
    overlapped: list[bool] = []
    inner = FakeRoyalti(products=[{"id": f"u{i}", "title": "t"} for i in range(250)])

    def script(request, reply):
        page = request.query.get("page")
        if page == "3":
            page3_asked.set()
        if page == "2":
            overlapped.append(page3_asked.wait(20))
        inner(request, reply)

    with HostileServer(script) as server:
        client = get_provider("royalti").from_env(
            base_url=server.url, env={"ROYALTI_API_KEY": "RWAK_x"}, rate=1000, concurrency=4
        )
        assert len(client.list_remote()) == 250
    assert overlapped == [True]
