# mypy: disable-error-code="arg-type"
"""Issue 9 item 4: credentials and endpoints fail fast, over real HTTP on 127.0.0.1.

* a refused JoggAI key stops ``plan`` (exit 1) naming JOGG_API_KEY: JoggAI has no listing, so
  ``check_access`` (``GET /v2/user/whoami``) is what notices;
* a dead port stops ``plan`` in about a second, saying it cannot connect to the URL; a
  connection never made is no request sent, and one quick retry is all it gets;
* a refused Royalti key or login, and Keevault's key codes, name the variables to fix.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from catalog_sync.cli.main import cli
from catalog_sync.errors import FatalProviderError
from catalog_sync.providers import get_provider
from catalog_sync.providers.registry import PROVIDERS as DESCRIBED
from catalog_sync.sandbox import Sandbox

GOOD = {"jogg": "jogg-good-key-4411", "keevault": "kv-good-key-4412", "royalti": "RWAK_good_key_4413"}
WRONG = {"jogg": "jogg-wrong-key-9901", "keevault": "kv-wrong-key-9902", "royalti": "RWAK_wrong_key_9903"}
ALL_VARIABLES = sorted({v for info in DESCRIBED.values() for v in (*info.variables, info.base_url_variable)})
CATALOGS = {
    "jogg": "product_id,url,name\n,https://shop.example.com/a,Alpha\n,https://shop.example.com/b,Beta\n",
    "royalti": "id,title,displayArtist,upc\n,First Light,Band,012345678905\n",
}


def _env(**values: str) -> dict[str, str | None]:
    """Every provider variable unset except ``values`` (click's runner removes a ``None``)."""
    env: dict[str, str | None] = dict.fromkeys(ALL_VARIABLES)
    env.update(values)
    return env


def _cli(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def jogg_sandbox() -> Iterator[Sandbox]:
    with Sandbox("jogg", api_key=GOOD["jogg"], post_limit=100000, env={}) as sb:
        yield sb


def _catalog(tmp_path: Path, provider: str) -> Path:
    path = tmp_path / f"{provider}.csv"
    path.write_text(CATALOGS[provider], encoding="utf-8")
    return path


def test_plan_with_a_refused_jogg_key_exits_1_naming_the_variable(
    jogg_sandbox: Sandbox, tmp_path: Path
) -> None:
    catalog = _catalog(tmp_path, "jogg")
    args = [
        "plan",
        str(catalog),
        "-p",
        "jogg",
        "--base-url",
        jogg_sandbox.url,
        "--state",
        str(tmp_path / "s.db"),
    ]
    refused = _cli(args, _env(JOGG_API_KEY=WRONG["jogg"]))
    assert refused.exit_code == 1, refused.output
    assert "JOGG_API_KEY" in refused.output and "10105" in refused.output
    assert WRONG["jogg"] not in refused.output
    assert jogg_sandbox.stats()["requests"] == {"GET /v2/user/whoami": 1}  # checked, nothing written

    accepted = _cli(args, _env(JOGG_API_KEY=GOOD["jogg"]))
    assert accepted.exit_code == 0, accepted.output
    assert jogg_sandbox.stats()["requests"] == {
        "GET /v2/user/whoami": 2
    }  # a GET: free of JoggAI's POST limit


def test_check_access_exists_on_every_provider_and_is_cheap(tmp_path: Path) -> None:
    for name in DESCRIBED:
        with Sandbox(name, api_key=GOOD[name], env={}) as sb:
            env = {DESCRIBED[name].key_variable: GOOD[name]}
            if name == "keevault":
                pem = tmp_path / "kv.pem"
                pem.write_text(sb.public_key_pem or "", encoding="ascii")
                env["KEEVAULT_PUBLIC_KEY"] = str(pem)
            client = get_provider(name).from_env(base_url=sb.url, env=env)
            client.check_access()
            assert client.stats.requests <= 1 and client.stats.writes == 0


@pytest.mark.parametrize("provider", ["jogg", "royalti"])
def test_plan_against_a_dead_port_exits_1_at_once_saying_it_cannot_connect(
    provider: str, tmp_path: Path
) -> None:
    port = _closed_port()
    url = f"http://user:pw-hidden-77@127.0.0.1:{port}"
    catalog = _catalog(tmp_path, provider)
    args = ["plan", str(catalog), "-p", provider, "--base-url", url, "--state", str(tmp_path / "s.db")]
    result = _cli(args, _env(**{DESCRIBED[provider].key_variable: GOOD[provider]}))
    assert result.exit_code == 1, result.output
    assert f"cannot connect to http://127.0.0.1:{port}" in result.output
    assert "pw-hidden-77" not in result.output and GOOD[provider] not in result.output
    # one quick retry, never six attempts with backoff: counted in the test below


def test_a_connection_never_made_is_no_request_sent_and_gives_up_after_one_retry() -> None:
    port = _closed_port()
    client: Any = get_provider("jogg").from_env(
        base_url=f"http://127.0.0.1:{port}", env={"JOGG_API_KEY": GOOD["jogg"]}, rate=1000
    )
    row = {"url": "https://shop.example.com/a", "name": "Alpha"}
    with pytest.raises(FatalProviderError, match="cannot connect") as first:
        client.create(row)
    assert "connection refused" in str(first.value)
    assert client.stats.requests == 0 and client.stats.writes == 0
    assert client.stats.attempts == 2  # the first try and one quick retry
    for _ in range(5):  # the other rows of an apply: no new connection attempts at all
        with pytest.raises(FatalProviderError, match="cannot connect"):
            client.create(row)
    assert client.stats.attempts == 2 and client.stats.requests == 0


def test_refused_royalti_key_and_login_name_the_variables(tmp_path: Path) -> None:
    login = {"email": "ops@label.test", "password": "right-password-5521", "workspace": "ws-1"}
    with Sandbox("royalti", api_key=GOOD["royalti"], env={}, **login) as sb:
        client = get_provider("royalti").from_env(base_url=sb.url, env={"ROYALTI_API_KEY": WRONG["royalti"]})
        with pytest.raises(FatalProviderError) as info:
            client.list_remote()
        message = str(info.value)
        assert "ROYALTI_API_KEY" in message and WRONG["royalti"] not in message

        wrong_login = {
            "ROYALTI_EMAIL": login["email"],
            "ROYALTI_PASSWORD": "wrong-password-8812",
            "ROYALTI_WORKSPACE": login["workspace"],
        }
        client = get_provider("royalti").from_env(base_url=sb.url, env=wrong_login)
        with pytest.raises(FatalProviderError) as info:
            client.list_remote()
        message = str(info.value)
        assert all(name in message for name in wrong_login)
        assert "wrong-password-8812" not in message


def test_refused_keevault_key_names_the_variable(tmp_path: Path) -> None:
    with Sandbox("keevault", api_key=GOOD["keevault"], env={}) as sb:
        pem = tmp_path / "kv.pem"
        pem.write_text(sb.public_key_pem or "", encoding="ascii")
        env = {"KEEVAULT_API_KEY": WRONG["keevault"], "KEEVAULT_PUBLIC_KEY": str(pem)}
        client = get_provider("keevault").from_env(base_url=sb.url, env=env)
        with pytest.raises(FatalProviderError) as info:
            client.list_remote()
    message = str(info.value)
    assert info.value.code == 100
    assert "KEEVAULT_API_KEY" in message and WRONG["keevault"] not in message
