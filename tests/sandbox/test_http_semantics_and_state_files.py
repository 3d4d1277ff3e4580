"""Round-2 review: HTTP method semantics, content types and hostile state files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from catalog_sync.providers.keevault.envelope import load_public_key, verify_envelope
from catalog_sync.sandbox import Sandbox

ROY = {"Authorization": "Bearer RWAK_sandbox"}


@pytest.mark.parametrize(
    ("provider", "path", "headers"),
    [
        ("royalti", "/product/", ROY),
        ("jogg", "/v2/user/whoami", {"x-api-key": "sandbox-jogg-key"}),
        ("keevault", "/api/v1/get-all-products?api_key=sandbox-keevault-key", {}),
    ],
)
def test_head_is_answered_like_get_without_a_body(make_sandbox, http, provider, path, headers) -> None:
    sb = make_sandbox(provider)
    get = http.get(sb.url + path, headers=headers)
    head = http.head(sb.url + path, headers=headers)
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    # keep-alive survives the bodiless answer
    assert http.get(sb.url + path, headers=headers).status_code == 200


def test_wrong_method_names_the_allowed_ones_and_options_answers_them(royalti, http) -> None:
    wrong = http.patch(f"{royalti.url}/product/abc", headers=ROY, json={})
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].split(", ")) == {"GET", "HEAD", "PUT", "DELETE"}
    opts = http.options(f"{royalti.url}/product", headers=ROY)
    assert opts.status_code == 204 and opts.content == b""
    assert set(opts.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert http.options(f"{royalti.url}/nowhere").status_code == 404


def test_royalti_refuses_a_json_body_sent_as_text(royalti, http) -> None:
    # Express' JSON parser ignores a text/plain body, so the real API sees no title at all
    r = http.post(
        f"{royalti.url}/product/", data=b'{"title": "T"}', headers={**ROY, "Content-Type": "text/plain"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert royalti.state()["products"] == []
    assert http.post(f"{royalti.url}/product/", json={"title": "T"}, headers=ROY).status_code == 201


def test_keevault_reads_a_json_body_like_laravel(keevault, http) -> None:
    body = {
        "api_key": "sandbox-keevault-key",
        "name": "JSON product",
        "description": "d",
        "source": "internal",
        "require_non_expired": 1,
        "status": "active",
    }
    r = http.post(f"{keevault.url}/api/v1/create-product", json=body)
    assert r.status_code == 200
    response = verify_envelope(r.json(), load_public_key(keevault.public_key_pem.encode()))
    assert response["code"] == 750
    (product,) = keevault.state()["products"]
    assert product["name"] == "JSON product" and product["require_non_expired"] == 1


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database " * 300)


def _foreign_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE records (x)")
    db.commit()
    db.close()


def _bad_record(path: Path) -> None:
    Sandbox("royalti", env={}, state_path=path).store.close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO records VALUES ('products', 'a', 1, '{not json')")
    db.commit()
    db.close()


@pytest.mark.parametrize("spoil", [_garbage, _foreign_schema, _bad_record])
def test_unusable_state_file_is_a_clear_value_error(tmp_path: Path, spoil) -> None:
    path = tmp_path / "state.db"
    spoil(path)
    with pytest.raises(ValueError, match=r"state file .*state\.db.* is not a usable sandbox state"):
        Sandbox("royalti", env={}, state_path=path)


def test_cli_exits_1_naming_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    _garbage(path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "catalog_sync",
            "sandbox",
            "-p",
            "royalti",
            "--port",
            "0",
            "--state",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert "broken.db" in proc.stderr and "not a usable sandbox state" in proc.stderr
    assert "unexpected" not in proc.stderr and "Traceback" not in proc.stderr


def test_requests_session_is_not_poisoned_by_a_dropped_answer(make_sandbox) -> None:
    sb = make_sandbox("royalti")
    with requests.Session() as s:
        assert s.get(f"{sb.url}/product", headers=ROY).status_code == 200
        sb.set_faults(drop_rate=1.0)
        with pytest.raises(requests.ConnectionError):
            s.get(f"{sb.url}/product", headers=ROY)
        sb.set_faults(drop_rate=0.0)
        assert s.get(f"{sb.url}/product", headers=ROY).status_code == 200


def test_keevault_unicode_digit_id_is_not_found_not_a_500(keevault, http) -> None:
    r = http.post(
        f"{keevault.url}/api/v1/delete-product", data={"api_key": "sandbox-keevault-key", "product_id": "²"}
    )
    assert r.status_code == 200 and r.json()["response"]["code"] == 551


def _raw(port: int, data: bytes, *, timeout: float = 5) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out


def test_declared_huge_body_is_413_in_the_provider_style_without_reading_it(royalti) -> None:
    head = (
        "POST /product HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer RWAK_sandbox\r\n"
        "Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n"
    )
    answer = _raw(royalti.port, head.encode() + b"{")
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"code":"PAYLOAD_TOO_LARGE"' in answer and b"Connection: close" in answer


def test_a_huge_body_actually_sent_gets_the_413_not_a_reset(royalti) -> None:
    r = requests.post(
        f"{royalti.url}/product",
        data=b"x" * (17 * 1024 * 1024),
        headers={**ROY, "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert royalti.stats()["total_requests"] == 0


def test_chunked_bodies_are_read_and_bad_framing_is_400(royalti) -> None:
    body = b'{"title": "Chunked"}'
    ok = _raw(
        royalti.port,
        b"POST /product HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer RWAK_sandbox\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n",
    )
    assert ok.startswith(b"HTTP/1.1 201") and b'"title":"Chunked"' in ok
    for framing in (
        b"Content-Length: abc\r\n\r\n",
        b"Content-Length: -5\r\n\r\n",
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"Transfer-Encoding: chunked\r\n\r\n-5\r\nab",
    ):
        bad = _raw(royalti.port, b"POST /product HTTP/1.1\r\nHost: x\r\n" + framing)
        assert bad.startswith(b"HTTP/1.1 400") and b'"success":false' in bad


def test_debug_request_log_never_shows_the_key(keevault, http, caplog) -> None:
    import logging

    with caplog.at_level(logging.DEBUG, logger="catalog_sync.sandbox"):
        http.get(f"{keevault.url}/api/v1/get-all-products", params={"api_key": "sandbox-keevault-key"})
        http.get(f"{keevault.url}/api/v1/get-all-products", params={"api_key": "some-other-key-9"})
    assert "get-all-products" in caplog.text
    assert "sandbox-keevault-key" not in caplog.text and "some-other-key-9" not in caplog.text


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
@pytest.mark.parametrize("knob", ["latency_ms", "jitter_ms", "slow_chunk_delay_ms", "error_rate"])
def test_fault_knobs_refuse_non_finite_values(royalti, http, knob, value) -> None:
    r = http.post(f"{royalti.url}/_sandbox/faults", json={knob: value})
    assert r.status_code == 400 and knob in r.json()["error"]
    assert http.get(f"{royalti.url}/product", headers=ROY).status_code == 200
