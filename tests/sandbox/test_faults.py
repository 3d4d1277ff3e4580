# mypy: disable-error-code="arg-type"
"""Fault knobs, measured over real HTTP: rates, Retry-After, lost answers, drops, slow bodies, stats."""

from __future__ import annotations

import time

import pytest
import requests

from catalog_sync.sandbox import FaultConfig

JOGG = {"x-api-key": "sandbox-jogg-key"}
ROYALTI = {"Authorization": "Bearer RWAK_sandbox"}


def test_error_rate_ten_percent_over_2000_requests(make_sandbox) -> None:
    sb = make_sandbox("jogg", faults=FaultConfig(error_rate=0.10), seed=7)
    statuses = []
    with requests.Session() as s:
        for _ in range(2000):
            r = s.get(f"{sb.url}/v2/visual_styles", headers=JOGG)
            statuses.append(r.status_code)
            if r.status_code == 503:
                assert r.headers["Retry-After"] == "1"
            if r.status_code >= 500:
                assert r.json() == {"code": 50000, "msg": "System error", "data": None}
    errors = sum(1 for s in statuses if s in (500, 503))
    assert 140 <= errors <= 260, errors  # 10% ± 3%
    assert {500, 503} <= set(statuses) and set(statuses) <= {200, 500, 503}
    stats = sb.stats()
    assert stats["requests"]["GET /v2/visual_styles"] == 2000
    assert stats["faults"].get("error_500", 0) + stats["faults"].get("error_503", 0) == errors


def test_injected_errors_apply_nothing(make_sandbox, http) -> None:
    sb = make_sandbox("royalti", faults=FaultConfig(error_rate=1.0))
    for _ in range(5):
        r = http.post(f"{sb.url}/product", json={"title": "x"}, headers=ROYALTI)
        assert r.status_code in (500, 503) and r.json()["success"] is False
    assert sb.state()["products"] == [] and sb.stats()["writes_applied"] == 0


@pytest.mark.parametrize("provider", ["jogg", "keevault", "royalti"])
def test_429_carries_retry_after_and_applies_nothing(make_sandbox, http, provider) -> None:
    sb = make_sandbox(provider, faults=FaultConfig(rate_limit_rate=1.0, retry_after=7))
    paths = {"jogg": ("/v2/product", {"json": {"name": "x"}, "headers": JOGG}),
             "keevault": ("/api/v1/create-product", {"data": {"api_key": "sandbox-keevault-key", "name": "x"}}),
             "royalti": ("/product", {"json": {"title": "x"}, "headers": ROYALTI})}  # fmt: skip
    path, kwargs = paths[provider]
    r = http.post(f"{sb.url}{path}", **kwargs)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert sb.state()["products"] == []
    assert sb.stats()["faults"] == {"rate_limited": 1}


@pytest.mark.parametrize("mode", ["502", "close"])
def test_lost_answer_still_applies_the_change(make_sandbox, http, mode) -> None:
    sb = make_sandbox("royalti", faults=FaultConfig(lost_answer_rate=1.0, lost_answer_mode=mode))
    if mode == "502":
        r = http.post(f"{sb.url}/product", json={"title": "Lost"}, headers=ROYALTI)
        assert r.status_code == 502 and "Bad Gateway" in r.text
    else:
        with pytest.raises(requests.ConnectionError):
            http.post(f"{sb.url}/product", json={"title": "Lost"}, headers=ROYALTI)
    assert [p["title"] for p in sb.state()["products"]] == ["Lost"]
    assert sb.stats()["writes_applied"] == 1 and sb.stats()["faults"] == {"lost_answer": 1}


def test_lost_answer_both_modes_mixed(make_sandbox) -> None:
    sb = make_sandbox("jogg", post_limit=0, faults=FaultConfig(lost_answer_rate=1.0), seed=11)
    outcomes = set()
    for i in range(30):
        try:
            r = requests.post(f"{sb.url}/v2/product", json={"name": f"p{i}"}, headers=JOGG)
            outcomes.add(r.status_code)
        except requests.ConnectionError:
            outcomes.add("closed")
    assert outcomes == {502, "closed"}
    assert len(sb.state()["products"]) == 30


def test_dropped_connection_applies_nothing(make_sandbox, http) -> None:
    sb = make_sandbox("keevault", faults=FaultConfig(drop_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        http.post(f"{sb.url}/api/v1/create-product",
                  data={"api_key": "sandbox-keevault-key", "name": "n", "description": "d", "source": "internal",
                        "require_non_expired": "1", "status": "active"})  # fmt: skip
    assert sb.state()["products"] == []
    assert sb.stats()["writes_applied"] == 0 and sb.stats()["faults"] == {"dropped": 1}
    sb.set_faults(drop_rate=0)
    assert http.get(f"{sb.url}/api/v1/get-all-products", params={"api_key": "sandbox-keevault-key"}).ok


def test_slow_body_arrives_whole_but_trickled(make_sandbox, http) -> None:
    sb = make_sandbox(
        "jogg", faults=FaultConfig(slow_body_rate=1.0, slow_chunk_bytes=16, slow_chunk_delay_ms=10)
    )
    start = time.monotonic()
    r = http.get(f"{sb.url}/v2/visual_styles", headers=JOGG)
    elapsed = time.monotonic() - start
    assert r.json()["code"] == 0 and int(r.headers["Content-Length"]) == len(r.content)
    chunks = -(-len(r.content) // 16)
    assert elapsed >= (chunks - 1) * 0.010 * 0.9


def test_latency_applies_to_api_not_admin(make_sandbox, http) -> None:
    sb = make_sandbox("jogg", faults=FaultConfig(latency_ms=150, jitter_ms=50))
    start = time.monotonic()
    http.get(f"{sb.url}/v2/visual_styles", headers=JOGG)
    assert time.monotonic() - start >= 0.15
    sb.set_faults(latency_ms=120_000)  # an admin answer delayed like the API would miss its 10 s timeout
    assert http.get(f"{sb.url}/_sandbox/state", timeout=10).status_code == 200


def test_admin_paths_are_never_faulted(make_sandbox, http) -> None:
    sb = make_sandbox("royalti", faults=FaultConfig(drop_rate=1.0, error_rate=1.0, rate_limit_rate=1.0))
    for path in ("/_sandbox/state", "/_sandbox/faults", "/_sandbox/stats"):
        assert http.get(f"{sb.url}{path}").status_code == 200
    assert sb.stats()["total_requests"] == 0


def test_same_seed_same_faults(make_sandbox) -> None:
    def run(seed: int) -> list[int]:
        sb = make_sandbox("jogg", faults=FaultConfig(error_rate=0.5), seed=seed)
        with requests.Session() as s:
            return [s.get(f"{sb.url}/v2/voices", headers=JOGG).status_code for _ in range(60)]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_faults_admin_endpoint(make_sandbox, http) -> None:
    sb = make_sandbox("jogg", seed=5)
    got = http.get(f"{sb.url}/_sandbox/faults").json()
    assert got["seed"] == 5 and got["error_rate"] == 0.0 and got["lost_answer_mode"] == "both"
    r = http.post(f"{sb.url}/_sandbox/faults", json={"error_rate": 1, "retry_after": "3"})
    assert r.status_code == 200 and r.json()["error_rate"] == 1.0 and r.json()["retry_after"] == 3
    assert http.get(f"{sb.url}/v2/voices", headers=JOGG).status_code in (500, 503)
    for bad in ({"error_rate": 2}, {"nope": 1}, {"lost_answer_mode": "sometimes"}, ["x"]):
        r = http.post(f"{sb.url}/_sandbox/faults", json=bad)
        assert r.status_code == 400 and r.json()["error"]
    assert http.get(f"{sb.url}/_sandbox/faults").json()["error_rate"] == 1.0
    sb.set_faults(error_rate=0, seed=9)
    assert http.get(f"{sb.url}/_sandbox/faults").json()["seed"] == 9
    assert http.get(f"{sb.url}/v2/voices", headers=JOGG).status_code == 200


def test_stats_count_per_template_and_reset(royalti, http) -> None:
    pid = http.post(f"{royalti.url}/product/", json={"title": "a"}, headers=ROYALTI).json()["id"]
    http.get(f"{royalti.url}/product/{pid}", headers=ROYALTI)
    http.get(f"{royalti.url}/product/nope", headers=ROYALTI)
    http.put(f"{royalti.url}/product/{pid}", json={}, headers=ROYALTI)  # refused: no title
    http.get(f"{royalti.url}/nowhere")
    stats = http.get(f"{royalti.url}/_sandbox/stats").json()
    assert stats["requests"] == {"GET (unmatched)": 1, "GET /product/{id}": 2, "POST /product": 1,
                                 "PUT /product/{id}": 1}  # fmt: skip
    assert stats["writes_applied"] == 1 and stats["writes"] == {"POST /product": 1}
    assert http.post(f"{royalti.url}/_sandbox/stats/reset").json()["total_requests"] == 0
    assert royalti.stats()["requests"] == {}
