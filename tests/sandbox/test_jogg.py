"""JoggAI emulator: products, videos, id lists, business codes and the POST rate limit."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

KEY = {"x-api-key": "sandbox-jogg-key"}
SEED_003 = Path(__file__).parent / "data" / "jogg-flat-create-video-body.json"


def video_body(product_id: str, length: str = "30") -> dict:
    return {"product_id": product_id, "visual_style": "Simple Product Switch",
            "video_spec": {"aspect_ratio": "portrait", "length": length, "caption": True},
            "avatar": {"id": 81, "type": 0}, "voice": {"id": "en-US-ChristopherNeural"},
            "audio": {"music_id": 13}, "script": {"style": "Storytime", "language": "english"}}  # fmt: skip


def create(sb, http, **body) -> dict:
    r = http.post(f"{sb.url}/v2/product", json=body, headers=KEY)
    assert r.status_code == 200
    return r.json()


def test_create_product_mints_base64_decimal_ids(jogg, http) -> None:
    first = create(
        jogg, http, name="Heart Blush", description="Glow", media=[{"type": 1, "url": "https://x/a.jpg"}]
    )
    assert (first["code"], first["msg"]) == (0, "Success")
    pid = first["data"]["product_id"]
    assert "=" not in pid and base64.b64decode(pid + "=" * (-len(pid) % 4)).decode().isdigit()
    assert first["data"]["media"] == [{"type": 1, "url": "https://x/a.jpg"}]
    second = create(jogg, http, url="https://shop.example.com/products/happy-booster")["data"]
    assert int(base64.b64decode(second["product_id"] + "==")) == int(base64.b64decode(pid + "==")) + 1
    assert second["name"] == "Happy Booster"
    assert [p["product_id"] for p in jogg.state()["products"]] == [pid, second["product_id"]]


def test_update_product_is_partial(jogg, http) -> None:
    pid = create(jogg, http, name="A", description="first")["data"]["product_id"]
    r = http.put(f"{jogg.url}/v2/product", json={"product_id": pid, "name": "B"}, headers=KEY).json()
    assert r == {"code": 0, "msg": "Success"}
    (product,) = jogg.state()["products"]
    assert (product["name"], product["description"]) == ("B", "first")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v2/product", {"name": 5}, "name"),
        ("POST", "/v2/product", {"name": "x", "media": [{"type": 3}]}, "media.0.type"),
        ("POST", "/v2/product", {"description": "no url, no name"}, "url or name"),
        ("PUT", "/v2/product", {"name": "no id"}, "product_id"),
    ],
)
def test_parameter_error_40000_names_the_field(jogg, http, method, path, body, field) -> None:
    r = http.request(method, f"{jogg.url}{path}", json=body, headers=KEY).json()
    assert r["code"] == 40000 and r["data"] is None
    assert r["msg"].startswith(f"Parameter error: {field}")
    assert jogg.state()["products"] == []


def test_invalid_json_is_40000(jogg, http) -> None:
    r = http.post(
        f"{jogg.url}/v2/product", data=b"{not json", headers={**KEY, "Content-Type": "application/json"}
    )
    assert r.json()["code"] == 40000


def test_bad_key_is_10105(jogg, http) -> None:
    for headers in ({}, {"x-api-key": "nope"}):
        r = http.post(f"{jogg.url}/v2/product", json={"name": "x"}, headers=headers).json()
        assert (r["code"], r["msg"], r["data"]) == (10105, "Invalid API key", None)
    assert jogg.state()["products"] == []


def test_key_without_api_permission_is_18025(make_sandbox, http) -> None:
    sb = make_sandbox("jogg", no_permission_keys=("web-only-key",))
    r = http.post(f"{sb.url}/v2/product", json={"name": "x"}, headers={"x-api-key": "web-only-key"}).json()
    assert (r["code"], r["msg"], r["data"]) == (18025, "No permission to call APIs", None)
    assert sb.state()["products"] == []


def test_unknown_product_is_10104(jogg, http) -> None:
    r = http.put(f"{jogg.url}/v2/product", json={"product_id": "NTQ0MTkzNjg"}, headers=KEY).json()
    assert r["code"] == 10104
    r = http.post(f"{jogg.url}/v2/create_video_from_product", json=video_body("nope"), headers=KEY).json()
    assert r["code"] == 10104
    assert http.get(f"{jogg.url}/v2/product_video/nope", headers=KEY).json()["code"] == 10104


def test_flat_body_from_the_docs_is_rejected(jogg, http) -> None:
    """seeds/003: the curl example's flat body contradicts the schema; the schema wins."""
    pid = create(jogg, http, name="Gadget")["data"]["product_id"]
    flat = json.loads(SEED_003.read_text())
    assert set(flat) == {"product_id", "avatar_id", "voice_id", "aspect_ratio"}
    flat["product_id"] = pid
    r = http.post(f"{jogg.url}/v2/create_video_from_product", json=flat, headers=KEY).json()
    assert r["code"] == 40000 and r["msg"] == "Parameter error: video_spec is required"
    assert jogg.state()["videos"] == []


def test_video_processing_then_completed(make_sandbox, http) -> None:
    sb = make_sandbox("jogg", video_seconds=0.4)
    pid = create(sb, http, name="Gadget")["data"]["product_id"]
    r = http.post(f"{sb.url}/v2/create_video_from_product", json=video_body(pid), headers=KEY).json()
    assert r["code"] == 0 and r["data"]["status"] == "processing"
    vid = r["data"]["video_id"]
    got = http.get(f"{sb.url}/v2/product_video/{vid}", headers=KEY).json()["data"]
    assert got["status"] == "processing" and got["video_url"] == ""
    time.sleep(0.5)
    got = http.get(f"{sb.url}/v2/product_video/{vid}", headers=KEY).json()["data"]
    assert (
        got["status"] == "completed" and got["video_url"].endswith(".mp4") and got["deducted_credit"] == 1.0
    )
    listed = http.get(f"{sb.url}/v2/product_videos", params={"status": 4}, headers=KEY).json()["data"]
    assert listed["total"] == 1 and listed["videos"][0]["id"] == vid
    assert (
        http.get(f"{sb.url}/v2/product_videos", params={"status": 3}, headers=KEY).json()["data"]["total"]
        == 0
    )


def test_video_can_fail(make_sandbox, http) -> None:
    sb = make_sandbox("jogg", video_seconds=0, video_fail_rate=1.0)
    pid = create(sb, http, name="Gadget")["data"]["product_id"]
    vid = http.post(f"{sb.url}/v2/create_video_from_product", json=video_body(pid), headers=KEY).json()[
        "data"
    ]
    got = http.get(f"{sb.url}/v2/product_video/{vid['video_id']}", headers=KEY).json()["data"]
    assert got["status"] == "failed" and got["error"]["code"] == 50000


def test_credit_runs_out_18020(make_sandbox, http) -> None:
    sb = make_sandbox("jogg", credits=2, post_limit=0)  # 1 credit per video up to 2 minutes
    pid = create(sb, http, name="Gadget")["data"]["product_id"]
    codes = [http.post(f"{sb.url}/v2/create_video_from_product", json=video_body(pid, "30"), headers=KEY).json()
             for _ in range(3)]  # fmt: skip
    assert [c["code"] for c in codes] == [0, 0, 18020]
    assert codes[2]["msg"] == "Insufficient credit"
    assert http.get(f"{sb.url}/v2/user/remaining_quota", headers=KEY).json()["data"]["remaining_quota"] == 0.0
    assert len(sb.state()["videos"]) == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("avatar", {"id": 999999}), ("voice", {"id": "xx-Nobody"}), ("audio", {"music_id": 4242}),
     ("visual_style", "No Such Style")],
)  # fmt: skip
def test_unknown_ids_are_parameter_errors(jogg, http, field, value) -> None:
    pid = create(jogg, http, name="Gadget")["data"]["product_id"]
    body = dict(video_body(pid), **{field: value})
    r = http.post(f"{jogg.url}/v2/create_video_from_product", json=body, headers=KEY).json()
    assert r["code"] == 40000 and field in r["msg"]


def test_id_lists_feed_a_valid_video(jogg, http) -> None:
    avatars = http.get(f"{jogg.url}/v2/avatars/public", headers=KEY).json()["data"]["avatars"]
    voices = http.get(f"{jogg.url}/v2/voices", headers=KEY).json()["data"]["voices"]
    music = http.get(f"{jogg.url}/v2/musics", headers=KEY).json()["data"]["music"]
    styles = http.get(f"{jogg.url}/v2/visual_styles", headers=KEY).json()["data"]["visual_styles"]
    assert avatars and voices and music and styles
    pid = create(jogg, http, name="Gadget")["data"]["product_id"]
    body = dict(video_body(pid), avatar={"id": avatars[-1]["id"], "type": 0}, voice={"id": voices[-1]["voice_id"]},
                audio={"music_id": music[-1]["id"]}, visual_style=styles[-1]["name"])  # fmt: skip
    assert http.post(f"{jogg.url}/v2/create_video_from_product", json=body, headers=KEY).json()["code"] == 0


def test_default_limit_20_posts_per_minute(make_sandbox, http) -> None:
    sb = make_sandbox("jogg")
    answers = [http.post(f"{sb.url}/v2/product", json={"name": f"p{i}"}, headers=KEY) for i in range(21)]
    assert [a.json()["code"] for a in answers[:20]] == [0] * 20
    last = answers[20]
    assert last.status_code == 429 and last.json() == {
        "code": 429, "msg": "Rate limit exceeded. Please try again later.", "data": None}  # fmt: skip
    assert 1 <= int(last.headers["Retry-After"]) <= 60
    assert len(sb.state()["products"]) == 20
    # GETs are not limited
    assert http.get(f"{sb.url}/v2/visual_styles", headers=KEY).json()["code"] == 0


def test_configurable_post_limit(make_sandbox, http) -> None:
    sb = make_sandbox("jogg", post_limit=3)
    codes = [
        http.post(f"{sb.url}/v2/product", json={"name": "x"}, headers=KEY).json()["code"] for _ in range(4)
    ]
    assert codes == [0, 0, 0, 429]
    # PUT is not a POST: not limited
    pid = sb.state()["products"][0]["product_id"]
    assert (
        http.put(f"{sb.url}/v2/product", json={"product_id": pid, "name": "y"}, headers=KEY).json()["code"]
        == 0
    )
