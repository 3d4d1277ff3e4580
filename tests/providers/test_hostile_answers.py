"""Hostile single answers (issue 7 items 3–6): trickles, bombs, deep nesting, escapes, replays.

Every answer has a total deadline and a decoded-size cap; an answer the parser chokes on marks
its row and the run goes on; provider text reaches no terminal or report with control
characters; a Keevault answer must be signed, fresh and fit its request.
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from catalog_sync.providers.keevault.envelope import sign_response
from catalog_sync.state import Ledger
from tests.support.fakes import (
    KEEVAULT_KEY,
    ROYALTI_KEY,
    FakeKeevault,
    FakeRoyalti,
    assert_clean,
    env_for,
    keevault_catalog,
    royalti_catalog,
    run_child,
    run_cli,
)
from tests.support.hostile_server import HostileServer, Reply, Request
from tests.support.sync import ledger_scope

ROWS = [{"externalId": f"EXT-{i}", "title": f"Release {i}"} for i in range(3)]
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _list_trickled(request: Request, reply: Reply) -> None:
    body = json.dumps({"products": [], "totalPages": 1, "total": 0, "pad": "x" * 2000}).encode()
    reply.head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
    reply.trickle(body, 0.5)  # 2,000+ bytes at 2 bytes/s: 17 minutes without a deadline


def _headers_trickled(request: Request, reply: Reply) -> None:
    reply.raw(b"HTTP/1.1 200 OK\r\n")
    for i in range(10_000):
        if reply.stopping.wait(0.5):
            return
        try:
            reply.raw(f"X-Slow-{i}: {i}\r\n".encode())
        except OSError:
            return


@pytest.mark.parametrize("script", [_list_trickled, _headers_trickled], ids=["body", "headers"])
def test_a_trickled_answer_is_cut_at_the_deadline_and_the_lock_released(script, tmp_path):
    catalog = royalti_catalog(tmp_path, ROWS)
    state = tmp_path / "s.db"
    with HostileServer(script) as server:
        env = env_for("royalti", server.url, tmp_path)
        child = run_child(
            ["plan", str(catalog), "-p", "royalti", "--state", str(state), "--timeout", "6"], env
        )
        assert child.code == 1, child.stderr
        assert "no complete answer within 6 s" in child.stderr
        assert_clean(child.stdout, child.stderr)
        # the answer had started: not retried, so the run ends after one deadline (~6 s, not 17 min).
        # 6 s, not 2: a child process starved for 2 s on a loaded machine read nothing before the
        # deadline, took the answer for never started, and tried again (seen twice under load).
        assert len(server.seen) == 1
    again = run_cli(["runs", "--state", str(state), "--json"], {})
    assert again.exit_code == 0  # the lock was released: the state is usable at once


def _gzip_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b" " * 2**20
    parts = [packer.compress(b'{"products": [], "pad": "')]
    parts += [packer.compress(zeros) for _ in range(1024)]  # 1 GiB once inflated
    parts.append(packer.compress(b'"}') + packer.flush())
    return b"".join(parts)


def test_a_gzip_bomb_is_refused_at_the_size_cap_in_bounded_memory(tmp_path):
    bomb = _gzip_bomb()
    assert len(bomb) < 2 * 2**20

    def script(request: Request, reply: Reply) -> None:
        reply.head(
            200,
            {
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(bomb)),
            },
        )
        reply.raw(bomb)

    catalog = royalti_catalog(tmp_path, ROWS)
    with HostileServer(script) as server:
        child = run_child(
            ["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db")],
            env_for("royalti", server.url, tmp_path),
        )
        assert child.code == 1, child.stderr
        assert "larger than 128 MB" in child.stderr and "--max-answer-mb" in child.stderr
        assert child.max_rss_mb < 1024, child.max_rss_mb
        assert len(server.seen) == 1  # too big is not retried


def test_an_answer_nested_200000_deep_marks_its_row_and_the_run_goes_on(tmp_path):
    deep = b"[" * 200_000 + b"]" * 200_000
    fake = FakeRoyalti(create_answer=lambda product: deep if product["externalId"] == "EXT-1" else None)
    catalog = royalti_catalog(tmp_path, ROWS)
    with HostileServer(fake) as server:
        env = env_for("royalti", server.url, tmp_path)
        report = tmp_path / "report.json"
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
                "--concurrency",
                "1",
                "--yes",
                "--report",
                str(report),
            ],
            env,
        )
        assert_clean(result.output)
        # the garbled create had taken effect: it was looked up (by externalId), not sent again
        assert result.exit_code == 0, result.output
        assert [p["externalId"] for p in fake.products] == ["EXT-0", "EXT-1", "EXT-2"]
        rows = json.loads(report.read_text())["rows"]
        assert [r["status"] for r in rows] == ["ok", "ok", "ok"]
        # a listing nested that deep is a clear error, not a crash
        fake.list_body = lambda page, body: json.loads("1") and deep
        plan = run_cli(["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db")], env)
        assert plan.exit_code == 1
        assert "RecursionError" not in plan.output and "Traceback" not in plan.output


ESCAPES = "\x1b]0;pwned\x07\x1b[31mbad\x1b[0m title\r\x9b2J"


def test_control_characters_in_provider_errors_reach_no_terminal_report_or_runs(tmp_path):
    def script(request: Request, reply: Reply) -> None:
        if request.method == "GET":
            reply.json({"products": [], "totalPages": 1, "total": 0})
        else:
            reply.json(
                {"error": {"code": "BAD\x1b[5m", "message": ESCAPES, "details": [ESCAPES]}}, status=400
            )

    catalog = royalti_catalog(tmp_path, ROWS[:1])
    state = tmp_path / "s.db"
    with HostileServer(script) as server:
        env = env_for("royalti", server.url, tmp_path)
        report = tmp_path / "report.csv"
        result = run_cli(
            ["apply", str(catalog), "-p", "royalti", "--state", str(state), "--yes", "--report", str(report)],
            env,
        )
        assert result.exit_code == 4, result.output
        assert_clean(result.output)
        text = report.read_text(encoding="utf-8-sig")
        assert "\\x1b]0;pwned\\x07" in text  # shown, escaped: nothing hidden, nothing run
        assert_clean(text)
        with Ledger(state) as ledger:
            run_id = ledger.runs()[0]["id"]
            stored = ledger.outcomes(run_id)[0]
        assert "\x1b" not in stored["error"] and "\x1b" not in str(stored["error_code"])
        shown = run_cli(["runs", str(run_id), "--state", str(state)], {})
        assert_clean(shown.output)


def _keevault(tmp_path, fake: FakeKeevault, names: list[str], *extra: str) -> Any:
    catalog = keevault_catalog(tmp_path, names)
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
                "--rate",
                "1000",
                "--concurrency",
                "1",
                "--yes",
                *extra,
            ],
            env,
        )
        return result, server


def test_a_stale_signed_listing_is_not_trusted(tmp_path):
    fake = FakeKeevault(
        _KEY,
        products=[
            {
                "id": 1,
                "name": "Alpha",
                "description": "About Alpha",
                "source": "internal",
                "require_non_expired": 0,
                "status": "active",
            }
        ],
    )
    old = fake.signed({"code": 810, "message": "All products", "products": []})
    stale = sign_response({**json.loads(json.dumps(old["response"])), "timestamp": 1709003049}, _KEY)  # 2024
    fake.answer = lambda endpoint, response: stale if endpoint == "get-all-products" else None
    result, _server = _keevault(tmp_path, fake, ["Alpha", "Beta"])
    assert result.exit_code == 1, result.output
    assert (
        "not fresh" in result.stderr and "2024-02-27" in result.stderr and "--max-clock-skew" in result.stderr
    )
    assert fake.writes == []  # Alpha was not created a second time


def test_the_clock_skew_allowed_is_configurable(tmp_path):
    fake = FakeKeevault(_KEY, clock=lambda: time.time() - 900)  # the server's clock is 15 minutes slow
    result, _server = _keevault(tmp_path, fake, ["Alpha"])
    assert result.exit_code == 1 and "not fresh" in result.stderr
    fake = FakeKeevault(_KEY, clock=lambda: time.time() - 900)
    result, _server = _keevault(
        tmp_path / "2" if (tmp_path / "2").mkdir() is None else tmp_path,
        fake,
        ["Alpha"],
        "--max-clock-skew",
        "1200",
    )
    assert result.exit_code == 0, result.output


def test_one_create_answer_replayed_for_the_next_create_is_refused(tmp_path):
    fake = FakeKeevault(_KEY)
    first: dict[str, Any] = {}

    def replay(endpoint: str, response: dict[str, Any]) -> dict[str, Any] | None:
        if endpoint != "create-product":
            return None
        first.setdefault("answer", fake.signed(response))
        return first["answer"]

    fake.answer = replay
    report = tmp_path / "r.json"
    result, _server = _keevault(tmp_path, fake, ["Alpha", "Beta"], "--report", str(report))
    assert result.exit_code == 1, result.output
    assert "replayed" in result.stderr
    rows = {r["key"]: r for r in json.loads(report.read_text())["rows"]}
    assert rows["name=Alpha"]["status"] == "ok" and rows["name=Alpha"]["remote_id"] == "1"
    assert rows["name=Beta"]["status"] == "unknown"  # sent, answer not trusted: settled by lookup next run
    with Ledger(tmp_path / "s.db") as ledger:
        ids = [r.remote_id for r in ledger.records(ledger_scope("keevault", _server.url, KEEVAULT_KEY))]
    assert ids == ["1"]  # never two rows recorded as the same product


def test_a_signed_answer_of_another_endpoint_is_refused(tmp_path):
    fake = FakeKeevault(_KEY)
    listing = fake.signed({"code": 810, "message": "All products", "products": [], "product_id": 9})
    fake.answer = lambda endpoint, response: listing if endpoint == "create-product" else None
    result, _server = _keevault(tmp_path, fake, ["Alpha"])
    assert result.exit_code == 1
    assert "code 810, which that request never answers" in result.stderr


def test_a_signed_code_given_as_text_is_that_code(tmp_path):
    fake = FakeKeevault(_KEY)
    fake.answer = lambda endpoint, response: fake.signed(
        {**response, "code": str(response["code"]), "product_id": str(response.get("product_id", ""))}
        if endpoint == "create-product"
        else response
    )
    result, _server = _keevault(tmp_path, fake, ["Alpha"])
    assert result.exit_code == 0, result.output
    assert "1 ok" in result.output or "ok" in result.output


def test_a_token_refresh_inside_a_request_does_not_lift_that_requests_deadline(tmp_path):
    """The login made by the auth hook nests its own deadline; the outer request keeps its own."""

    def script(request: Request, reply: Reply) -> None:
        if request.path == "/auth/login":
            reply.json(
                {"message": "Successful", "refresh_token": "r.e.f", "workspaces": [{"workspaceId": "ws"}]}
            )
        elif request.path == "/auth/authtoken":
            reply.json({"status": "success", "data": {"access_token": "a.c.c"}})
        else:
            _list_trickled(request, reply)

    catalog = royalti_catalog(tmp_path, ROWS)
    with HostileServer(script) as server:
        env = {
            "ROYALTI_EMAIL": "ops@label.test",
            "ROYALTI_PASSWORD": "pw-hostile-9911",
            "ROYALTI_WORKSPACE": "ws",
            "ROYALTI_BASE_URL": server.url,
        }
        child = run_child(
            ["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db"), "--timeout", "2"], env
        )
        assert child.code == 1, child.stderr
        assert "no complete answer within 2 s" in child.stderr
        assert (
            server.paths().count("GET /product/") == 1
        )  # cut at its deadline, not trickled to the end and resent


def test_a_redirect_is_not_followed_and_says_so(tmp_path):
    def script(request: Request, reply: Reply) -> None:
        reply.head(302, {"Location": "https://evil.example/steal?key=1", "Content-Length": "0"})

    catalog = royalti_catalog(tmp_path, ROWS)
    with HostileServer(script) as server:
        result = run_cli(
            ["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db")],
            env_for("royalti", server.url, tmp_path),
        )
        assert result.exit_code == 1
        assert "redirects to https://evil.example/steal" in result.stderr and "key=1" not in result.stderr
        assert len(server.seen) == 1


def test_a_contract_message_stays_short_whatever_the_provider_sends(tmp_path):
    fake = FakeRoyalti(list_body=lambda page, body: {f"k{'0' * 5000}{i}": 1 for i in range(100)})
    catalog = royalti_catalog(tmp_path, ROWS)
    with HostileServer(fake) as server:
        result = run_cli(
            ["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db")],
            env_for("royalti", server.url, tmp_path),
        )
        assert result.exit_code == 1 and "has no products list" in result.stderr
        assert len(result.stderr) < 1000


def test_a_create_answered_with_another_rows_id_is_not_trusted_and_never_merged(tmp_path):
    """Issue 17 item 2: Royalti answers row B's create with row A's id.  B is ``unknown`` (its create may
    have happened), the ledger never records B as A's release, and the next run finds B's own
    release by its externalId: two rows stay two records, none created twice."""

    def as_the_first(product: dict[str, Any]) -> dict[str, Any] | None:
        first = fake.products[0]
        return None if product is first else {"message": "created", "product": {**product, "id": first["id"]}}

    fake = FakeRoyalti(create_answer=as_the_first)
    catalog = royalti_catalog(tmp_path, ROWS[:2])
    with HostileServer(fake) as server:
        env = env_for("royalti", server.url, tmp_path)
        state = str(tmp_path / "s.db")
        args = [
            "apply",
            str(catalog),
            "-p",
            "royalti",
            "--state",
            state,
            "--rate",
            "1000",
            "--concurrency",
            "1",
        ]
        first = run_cli([*args, "--yes", "--report", str(tmp_path / "r1.json")], env)
        rows = {r["key"]: r for r in json.loads((tmp_path / "r1.json").read_text())["rows"]}
        assert first.exit_code == 4, first.output
        assert [r["status"] for r in rows.values()] == ["ok", "unknown"]
        assert "not trusted" in list(rows.values())[1]["error"]
        with Ledger(state) as ledger:
            assert [
                r.remote_id for r in ledger.records(ledger_scope("royalti", server.url, ROYALTI_KEY))
            ] == [fake.products[0]["id"]]

        fake.create_answer = None
        second = run_cli([*args, "--yes", "--report", str(tmp_path / "r2.json")], env)
        assert second.exit_code == 0, second.output
        assert [p["externalId"] for p in fake.products] == ["EXT-0", "EXT-1"]  # none created twice
        with Ledger(state) as ledger:
            known = sorted(
                r.remote_id for r in ledger.records(ledger_scope("royalti", server.url, ROYALTI_KEY))
            )
        assert known == sorted(p["id"] for p in fake.products)
