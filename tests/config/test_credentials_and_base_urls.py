"""Credentials, base URLs and redaction (catalog_sync.config.credentials)."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_sync.config.credentials import (
    Credentials,
    redact,
    register_secret,
    resolve_base_url,
    secrets_in_env,
)
from catalog_sync.errors import ConfigError
from catalog_sync.providers import PROVIDERS, get_provider


def test_missing_credentials_name_the_variables_never_values() -> None:
    with pytest.raises(ConfigError) as info:
        Credentials.load(
            "royalti", env={"ROYALTI_EMAIL": "me@x.test", "ROYALTI_PASSWORD": "pw-secret-123"}, config={}
        )
    text = str(info.value)
    assert "ROYALTI_API_KEY or ROYALTI_EMAIL+ROYALTI_PASSWORD+ROYALTI_WORKSPACE" in text
    assert "pw-secret-123" not in text and "me@x.test" not in text
    with pytest.raises(ConfigError, match="JOGG_API_KEY"):
        Credentials.load("jogg", env={}, config={})


def test_env_wins_over_the_config_file_and_explicit_wins_over_env(tmp_path: Path) -> None:
    toml = tmp_path / "catalog-sync.toml"
    toml.write_text(
        '[providers.jogg]\njogg_api_key = "from-file-1"\nbase_url = "https://file.example"\n'
        '[providers.royalti]\napi_key = "RWAK_from_file"\n',
        encoding="utf-8",
    )
    assert Credentials.load("jogg", env={}, config_path=toml).get("JOGG_API_KEY") == "from-file-1"
    assert (
        Credentials.load("jogg", env={"JOGG_API_KEY": "from-env-2"}, config_path=toml).get("JOGG_API_KEY")
        == "from-env-2"
    )
    assert (
        Credentials.load(
            "jogg", env={"JOGG_API_KEY": "from-env-2"}, config_path=toml, api_key="explicit-3"
        ).get("JOGG_API_KEY")
        == "explicit-3"
    )
    assert Credentials.load("royalti", env={}, config_path=toml).get("ROYALTI_API_KEY") == "RWAK_from_file"
    assert resolve_base_url("jogg", env={}, config_path=toml) == "https://file.example"
    assert (
        resolve_base_url("jogg", env={"JOGG_BASE_URL": "http://env.example/"}, config_path=toml)
        == "http://env.example"
    )
    assert (
        resolve_base_url("jogg", "http://arg.example", env={"JOGG_BASE_URL": "http://env.example"})
        == "http://arg.example"
    )


def test_defaults_and_errors_for_base_urls(tmp_path: Path) -> None:
    assert resolve_base_url("jogg", env={}, config={}) == "https://api.jogg.ai"
    assert resolve_base_url("royalti", env={}, config={}) == "https://api.royalti.io"
    with pytest.raises(ConfigError, match="set KEEVAULT_BASE_URL or --base-url"):
        resolve_base_url("keevault", env={}, config={})
    with pytest.raises(ConfigError, match="http"):
        resolve_base_url("jogg", "ftp://x", env={}, config={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[providers.jogg\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Credentials.load("jogg", env={}, config_path=bad)


def test_repr_never_shows_secrets() -> None:
    creds = Credentials.load(
        "royalti",
        env={"ROYALTI_EMAIL": "a@b.test", "ROYALTI_PASSWORD": "hunter2-pw", "ROYALTI_WORKSPACE": "ws"},
        config={},
    )
    assert "hunter2-pw" not in repr(creds) and "hunter2-pw" not in str(creds)
    assert "ROYALTI_PASSWORD" in repr(creds)
    assert creds.secrets == ["hunter2-pw"]
    client = get_provider("royalti")(creds, base_url="https://api.royalti.io")
    assert "hunter2-pw" not in repr(client)


def test_redact_removes_env_secrets_tokens_bearer_and_api_key_params(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOGG_API_KEY", "jk-abcdef-9876")
    monkeypatch.setenv("ROYALTI_PASSWORD", "pw-zyx-555")
    assert "jk-abcdef-9876" in secrets_in_env()
    register_secret("eyJhbGciOi.tokenpart.sig")
    text = (
        "key jk-abcdef-9876 pw pw-zyx-555 tok eyJhbGciOi.tokenpart.sig "
        'Authorization: Bearer abc.def-ghi GET /x?api_key=s3cr3t&page=2 {"x-api-key": "q1w2e3"}'
    )
    out = redact(text)
    for secret in (
        "jk-abcdef-9876",
        "pw-zyx-555",
        "eyJhbGciOi.tokenpart.sig",
        "abc.def-ghi",
        "s3cr3t",
        "q1w2e3",
    ):
        assert secret not in out
    assert "api_key=***&page=2" in out and "Bearer ***" in out
    assert redact("nothing to hide") == "nothing to hide"


def test_registry_lists_valid_names() -> None:
    assert set(PROVIDERS) == {"jogg", "keevault", "royalti"}
    assert get_provider("royalti").name == "royalti"
    with pytest.raises(ConfigError, match="jogg, keevault, royalti"):
        get_provider("shopify")
    for name, cls in PROVIDERS.items():
        assert cls.name == name
        assert cls.default_concurrency >= 1
