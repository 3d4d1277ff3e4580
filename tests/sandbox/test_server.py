# mypy: disable-error-code="union-attr"
"""The server itself: concurrency, keep-alive, persistence across restarts."""

from __future__ import annotations

import json
import socket

import pytest
import requests

from catalog_sync.providers.keevault.envelope import load_public_key, verify_envelope
from catalog_sync.sandbox import FaultConfig, Sandbox

JOGG = {"x-api-key": "sandbox-jogg-key"}


def _request(path: str, extra: str = "") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: sandbox\r\nx-api-key: sandbox-jogg-key\r\n{extra}\r\n").encode()


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the answer"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers["content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


@pytest.mark.slow
def test_200_concurrent_connections_all_answered(make_sandbox) -> None:
    # each answer takes 300 ms: served one at a time, the last connection's answer would come after
    # 60 s and reading it first would hit the 20 s socket timeout; served side by side, it is there
    sb = make_sandbox("jogg", faults=FaultConfig(latency_ms=300))
    socks = [socket.create_connection(("127.0.0.1", sb.port), timeout=20) for _ in range(200)]
    try:
        for s in socks:  # all 200 connections are open before any request is sent
            s.sendall(_request("/v2/visual_styles"))
        answers = [_read_answer(s) for s in reversed(socks)]  # the last one sent is read first
        assert all(status == 200 and json.loads(body)["code"] == 0 for status, _, body in answers)
        # keep-alive: the same 200 connections answer a second request
        for s in socks:
            s.sendall(_request("/v2/voices"))
        assert all(_read_answer(s)[0] == 200 for s in socks)
    finally:
        for s in socks:
            s.close()
    assert sb.stats()["total_requests"] == 400


def test_keep_alive_and_content_length(jogg) -> None:
    with socket.create_connection(("127.0.0.1", jogg.port), timeout=5) as s:
        for path in ("/v2/visual_styles", "/v2/nowhere", "/v2/musics"):
            s.sendall(_request(path))
            status, headers, body = _read_answer(s)
            assert int(headers["content-length"]) == len(body)
            assert headers.get("connection") != "close"
        assert status == 200
        s.sendall(_request("/_sandbox/stats"))
        assert _read_answer(s)[0] == 200
        s.sendall(_request("/v2/musics", "Connection: close\r\n"))
        _read_answer(s)
        assert s.recv(10) == b""  # the server closed as asked


def test_binds_loopback_by_default(jogg) -> None:
    assert jogg.host == "127.0.0.1" and jogg.url == f"http://127.0.0.1:{jogg.port}"


def test_state_persists_across_restart(tmp_path) -> None:
    db = tmp_path / "royalti.db"
    with Sandbox("royalti", env={}, state_path=db) as sb:
        auth = {"Authorization": "Bearer RWAK_sandbox"}
        ids = [requests.post(f"{sb.url}/product", json={"title": t, "upc": u}, headers=auth).json()["id"]
               for t, u in (("One", "111111111117"), ("Two", "222222222224"))]  # fmt: skip
        requests.delete(f"{sb.url}/product/{ids[0]}", headers=auth)
    with Sandbox("royalti", env={}, state_path=db) as sb:
        assert [p["id"] for p in sb.state()["products"]] == [ids[1]]
        got = requests.get(f"{sb.url}/product/{ids[1]}", headers=auth).json()["product"]
        assert got["upc"] == "222222222224"
        assert requests.post(f"{sb.url}/product", json={"title": "Dup", "upc": "222222222224"},
                             headers=auth).status_code == 409  # fmt: skip


def test_jogg_and_keevault_counters_and_key_survive_restart(tmp_path) -> None:
    db = tmp_path / "jogg.db"
    with Sandbox("jogg", env={}, state_path=db) as sb:
        first = requests.post(f"{sb.url}/v2/product", json={"name": "a"}, headers=JOGG).json()["data"][
            "product_id"
        ]
    with Sandbox("jogg", env={}, state_path=db) as sb:
        second = requests.post(f"{sb.url}/v2/product", json={"name": "b"}, headers=JOGG).json()["data"][
            "product_id"
        ]
        assert [p["product_id"] for p in sb.state()["products"]] == [first, second]
    assert first != second

    kdb = tmp_path / "kv.db"
    form = {"api_key": "sandbox-keevault-key", "name": "n", "description": "d", "source": "internal",
            "require_non_expired": "1", "status": "active"}  # fmt: skip
    with Sandbox("keevault", env={}, state_path=kdb) as sb:
        pem = sb.public_key_pem
        for _ in range(2):
            requests.post(f"{sb.url}/api/v1/create-product", data=form)
        requests.post(f"{sb.url}/api/v1/delete-product", data={"api_key": form["api_key"], "product_id": "2"})
    with Sandbox("keevault", env={}, state_path=kdb) as sb:
        assert sb.public_key_pem == pem
        envelope = requests.post(f"{sb.url}/api/v1/create-product", data=form).json()
        assert verify_envelope(envelope, load_public_key(pem.encode()))["product_id"] == 3
        assert [p["id"] for p in sb.state()["products"]] == [1, 3]

    with pytest.raises(ValueError, match="holds a jogg sandbox"):
        Sandbox("royalti", env={}, state_path=db)


def test_unknown_provider_and_option() -> None:
    with pytest.raises(ValueError, match="unknown sandbox provider"):
        Sandbox("shopify")
    with pytest.raises(TypeError, match=r"unexpected keyword|unknown option"):
        Sandbox("jogg", env={}, no_such_option=1)


def test_api_key_from_env(make_sandbox, http) -> None:
    sb = make_sandbox("jogg", env={"JOGG_API_KEY": "from-env"})
    assert http.get(f"{sb.url}/v2/voices", headers={"x-api-key": "from-env"}).json()["code"] == 0
    assert http.get(f"{sb.url}/v2/voices", headers=JOGG).json()["code"] == 10105
    assert sb.api_key_source == "env"


def test_a_client_hanging_up_mid_answer_prints_no_traceback(capsys) -> None:
    """A killed client (reset mid-answer) is routine for a sandbox: no traceback on stderr."""
    import socket
    import struct

    from catalog_sync.sandbox import FaultConfig, Sandbox

    with Sandbox("royalti", api_key="RWAK_reset", faults=FaultConfig(latency_ms=200)) as sb:
        for _ in range(3):
            conn = socket.create_connection((sb.host, sb.port))
            conn.sendall(b"GET /product HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer RWAK_reset\r\n\r\n")
            # RST instead of FIN: the server's write then fails with ConnectionResetError/BrokenPipe
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        import time

        time.sleep(0.6)
        assert sb.stats()["total_requests"] >= 1  # the server is still answering
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ConnectionResetError" not in err and "BrokenPipeError" not in err
