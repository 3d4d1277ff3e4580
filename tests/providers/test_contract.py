"""The contract every provider client passes, run against its real sandbox over HTTP.

The suite is parametrised over the registry: each provider folder's ``contract.py`` gives a valid
row, a field to change, an invalid row and the provider's code for it, and a read-only call.
A provider folder that lacks a piece fails here by name (``test_every_provider_folder_is_whole``).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.errors import (
    FatalProviderError,
    RetriableProviderError,
    RowFailedError,
    UnknownOutcomeError,
)
from catalog_sync.providers import PROVIDERS, Provider, get_provider
from catalog_sync.providers.info import Contract
from catalog_sync.providers.registry import NAMES, contract_of


@dataclass(frozen=True)
class Case:
    """A provider's contract (its folder's ``contract.py``), named for the suite's parameters."""

    provider: str
    contract: Contract

    def __getattr__(self, name: str) -> Any:
        return getattr(self.contract, name)


#: Every registered provider, its case read from its own folder (singer-sdk's get_tap_test_class).
CASES = {name: Case(name, contract_of(name)) for name in NAMES}
KEYS = {name: case.contract.test_key for name, case in CASES.items()}

assert set(CASES) == set(PROVIDERS), "every registered provider needs a contract case"
PARAMS = [pytest.param(case, id=name) for name, case in CASES.items()]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _flip_after(sandbox: Any, client: Provider, n: int, **faults: Any) -> list[float]:
    """Make the client's backoff sleep turn ``faults`` on after ``n`` sleeps; returns the delays."""
    delays: list[float] = []

    def sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) >= n:
            sandbox.set_faults(**faults)
        time.sleep(delay)

    client._sleep = sleep
    return delays


@pytest.mark.parametrize("case", PARAMS)
class TestProviderContract:
    def test_create_read_back_update_delete(self, case: Case, client_factory: Any) -> None:
        sandbox, client = client_factory(case.provider)
        expected = client.canonical(case.row)
        created = client.create(case.row)
        assert created.remote_id

        if client.can_list:
            listed = {r.remote_id: r for r in client.list_remote()}
            record = listed[created.remote_id]
            assert {k: record.fields[k] for k in expected} == expected
            assert client.find({k: v for k, v in case.row.items()}).remote_id == created.remote_id
            assert client.find({client.spec.remote_id: created.remote_id}).fields == record.fields
        else:
            assert client.list_remote() == []
            record = created.record
            assert record is not None
            assert {k: record.fields[k] for k in expected} == expected

        updated = client.update(created.remote_id, case.change, record)
        assert updated.remote_id == created.remote_id
        if client.can_list:
            after = {r.remote_id: r for r in client.list_remote()}[created.remote_id]
            assert after.fingerprint != record.fingerprint
        else:
            after = updated.record
            assert after is not None
        wanted = {**expected, **client.canonical(case.change)}
        assert {k: after.fields[k] for k in wanted} == wanted

        if client.can_delete:
            client.delete(created.remote_id)
            assert created.remote_id not in {r.remote_id for r in client.list_remote()}
        else:
            with pytest.raises(FatalProviderError):
                client.delete(created.remote_id)
            assert len(sandbox.state()["products"]) == 1
        assert sandbox.stats()["writes_applied"] == (3 if client.can_delete else 2)

    def test_bad_key_is_fatal_and_never_shows_the_key(
        self, case: Case, client_factory: Any, kit: Any, tmp_path: Path
    ) -> None:
        sandbox, _ = client_factory(case.provider)
        wrong = "RWAK_wrong_secret_9931" if case.provider == "royalti" else "wrong-secret-9931"
        client = kit.make_client(case.provider, sandbox, tmp_path, key=wrong)
        with pytest.raises(FatalProviderError) as info:
            client.create(case.row)
        assert (
            wrong not in str(info.value)
            and wrong not in repr(client)
            and wrong not in repr(client.credentials)
        )
        if case.provider == "jogg":
            assert str(info.value).startswith("JoggAI refused the API key (code 10105)")
            assert info.value.code == 10105
        assert client.stats.requests == 1  # refused credentials are not retried
        assert sandbox.stats()["writes_applied"] == 0

    def test_invalid_row_is_row_failed_with_the_provider_code(self, case: Case, client_factory: Any) -> None:
        sandbox, client = client_factory(case.provider)
        with pytest.raises(RowFailedError) as info:
            client.create(case.invalid)
        assert info.value.code == case.invalid_code
        assert KEYS[case.provider] not in str(info.value)
        assert client.stats.requests == 1
        assert sandbox.stats()["writes_applied"] == 0

    def test_429_retry_after_is_waited_then_the_write_is_sent_again(
        self, case: Case, client_factory: Any
    ) -> None:
        sandbox, client = client_factory(case.provider, sandbox_options={})
        sandbox.set_faults(rate_limit_rate=1.0, retry_after=1)
        delays = _flip_after(sandbox, client, 1, rate_limit_rate=0.0)
        started = time.monotonic()
        created = client.create(case.row)
        elapsed = time.monotonic() - started
        assert created.remote_id
        assert delays == [1.0]
        assert elapsed >= 1.0
        assert client.stats.requests == 2
        stats = sandbox.stats()
        assert stats["requests"][case.create_path] == 2 and stats["writes_applied"] == 1

    def test_server_errors_on_reads_are_retried(self, case: Case, client_factory: Any) -> None:
        sandbox, client = client_factory(case.provider)
        sandbox.set_faults(error_rate=1.0, retry_after=0)
        delays = _flip_after(sandbox, client, 2, error_rate=0.0)
        case.read(client)
        assert len(delays) == 2
        assert client.stats.requests == 3 and client.stats.retries == 2
        assert sum(sandbox.stats()["faults"].values()) == 2

    def test_read_retry_budget_is_bounded(self, case: Case, client_factory: Any) -> None:
        sandbox, client = client_factory(case.provider, max_attempts=3)
        sandbox.set_faults(error_rate=1.0, retry_after=0)
        with pytest.raises(RetriableProviderError):
            case.read(client)
        assert client.stats.requests == 3

    @pytest.mark.parametrize("mode", ["502", "close"])
    def test_lost_answer_on_a_write_is_unknown_and_not_resent(
        self, case: Case, mode: str, client_factory: Any
    ) -> None:
        sandbox, client = client_factory(case.provider)
        sandbox.set_faults(lost_answer_rate=1.0, lost_answer_mode=mode)
        with pytest.raises(UnknownOutcomeError) as info:
            client.create(case.row)
        assert KEYS[case.provider] not in str(info.value)
        assert "127.0.0.1" not in str(info.value) or "?" not in str(info.value)
        stats = sandbox.stats()
        assert stats["requests"][case.create_path] == 1
        assert stats["writes_applied"] == 1  # it did take effect: settle by lookup, never resend
        assert client.stats.writes == 1
        sandbox.set_faults(lost_answer_rate=0.0)
        if client.can_lookup:
            assert client.find(case.row) is not None
        else:
            with pytest.raises(UnknownOutcomeError):
                client.find(case.row)

    def test_read_timeout_on_a_write_is_unknown_and_on_a_read_is_retried(
        self, case: Case, client_factory: Any
    ) -> None:
        sandbox, client = client_factory(case.provider, timeout=0.2, max_attempts=2)
        sandbox.set_faults(latency_ms=600)
        with pytest.raises(UnknownOutcomeError, match="answer was lost"):
            client.create(case.row)
        assert client.stats.requests == 1
        with pytest.raises(RetriableProviderError):
            case.read(client)
        assert client.stats.requests == 3
        sandbox.set_faults(latency_ms=0, slow_body_rate=1.0, slow_chunk_delay_ms=5)
        client.timeout = 5.0
        case.read(client)  # a body trickled in chunks is read whole
        assert client.stats.requests == 4

    def test_unreachable_host_is_fatal_after_retrying_the_connect(
        self, case: Case, client_factory: Any, kit: Any, tmp_path: Path
    ) -> None:
        sandbox, _ = client_factory(case.provider)
        env = kit.client_env(case.provider, sandbox, tmp_path)
        client = get_provider(case.provider).from_env(
            base_url=f"http://127.0.0.1:{_closed_port()}",
            env=env,
            rate=1000,
            backoff_base=0.01,
            max_attempts=3,
        )
        with pytest.raises(FatalProviderError) as info:
            client.create(case.row)  # never reached the server: resending is safe, so it was retried once
        assert "cannot connect" in str(info.value)
        # a connection never made is no request sent; one quick retry, then final (issue 9 item 4)
        assert client.stats.requests == 0 and client.stats.attempts == 2
        assert KEYS[case.provider] not in str(info.value)

    def test_rate_limit_paces_writes(self, case: Case, client_factory: Any) -> None:
        sandbox, client = client_factory(case.provider, rate=20.0)
        rows = [dict(case.row, **_unique(case.provider, i)) for i in range(10)]
        started = time.monotonic()
        for row in rows:
            client.create(row)
        elapsed = time.monotonic() - started
        assert elapsed >= 0.45  # 10 writes, one token every 50 ms, burst 1
        assert sandbox.stats()["writes_applied"] == 10


def _unique(provider: str, i: int) -> dict[str, str]:
    if provider == "royalti":
        return {"upc": f"{100000000000 + i}", "externalId": f"EXT-{i}", "catalogNumber": f"CAT-{i}"}
    if provider == "keevault":
        return {"external_reference": f"ref-{i}", "name": f"Product {i}"}
    return {"name": f"Product {i}"}
