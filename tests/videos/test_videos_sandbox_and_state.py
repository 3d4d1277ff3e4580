# mypy: disable-error-code="union-attr"
"""What the videos need of the JoggAI sandbox (pricing, clock, custom avatars, lost POST answers) and of
the state database (schema 4: the videos table, migrated in place)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import requests

from catalog_sync.sandbox import FaultConfig
from catalog_sync.state import SCHEMA_VERSION, Ledger, LedgerScope
from tests.support.videos import KEY, jogg, make_products

HEADERS = {"x-api-key": KEY}


def body(product_id: str, length: str = "60", avatar: dict | None = None) -> dict:
    return {"product_id": product_id, "video_spec": {"length": length}, "avatar": avatar or {"id": 81, "type": 0},
            "voice": {}, "audio": {}, "script": {"style": "Data", "language": "english"}}  # fmt: skip


def test_every_documented_length_costs_one_credit_taken_when_processed() -> None:
    with jogg(video_seconds=600) as sb, requests.Session() as http:
        pid = make_products(sb, 1)[0]
        for length in ("15", "30", "60"):
            made = http.post(
                f"{sb.url}/v2/create_video_from_product", json=body(pid, length), headers=HEADERS
            )
            assert made.json()["code"] == 0
        quota = http.get(f"{sb.url}/v2/user/remaining_quota", headers=HEADERS).json()["data"]
        assert quota == {"remaining_quota": 97.0}  # still processing: credits already taken
        assert [v["deducted_credit"] for v in sb.state()["videos"]] == [1.0, 1.0, 1.0]


def test_the_sandbox_clock_moves_on_through_its_control_endpoint() -> None:
    with jogg(video_seconds=300) as sb, requests.Session() as http:
        pid = make_products(sb, 1)[0]
        vid = http.post(f"{sb.url}/v2/create_video_from_product", json=body(pid), headers=HEADERS).json()[
            "data"
        ]
        status = http.get(f"{sb.url}/v2/product_video/{vid['video_id']}", headers=HEADERS).json()["data"]
        assert status["status"] == "processing"
        moved = http.post(f"{sb.url}/_sandbox/clock", json={"advance": 301})
        assert moved.status_code == 200 and moved.json()["clock_offset"] == 301
        status = http.get(f"{sb.url}/v2/product_video/{vid['video_id']}", headers=HEADERS).json()["data"]
        assert status["status"] == "completed" and status["video_url"].endswith(".mp4")
        assert http.post(f"{sb.url}/_sandbox/clock", json={"advance": -5}).status_code == 400


def test_a_custom_avatar_is_type_1() -> None:
    with jogg() as sb, requests.Session() as http:
        pid = make_products(sb, 1)[0]
        custom = http.get(f"{sb.url}/v2/avatars/custom", headers=HEADERS).json()["data"]["avatars"]
        as_custom = body(pid, avatar={"id": custom[0]["id"], "type": 1})
        assert (
            http.post(f"{sb.url}/v2/create_video_from_product", json=as_custom, headers=HEADERS).json()[
                "code"
            ]
            == 0
        )
        as_public = body(pid, avatar={"id": custom[0]["id"], "type": 0})
        refused = http.post(f"{sb.url}/v2/create_video_from_product", json=as_public, headers=HEADERS).json()
        assert refused["code"] == 40000 and "avatar.id" in refused["msg"]


def test_lost_answers_can_be_limited_to_writes() -> None:
    faults = FaultConfig(lost_answer_rate=1.0, lost_answer_mode="502", lost_answer_methods="POST")
    with jogg(faults=faults) as sb, requests.Session() as http:
        lost = http.post(f"{sb.url}/v2/product", json={"name": "Lamp"}, headers=HEADERS)
        assert lost.status_code == 502 and len(sb.state()["products"]) == 1  # applied, answer lost
        assert http.get(f"{sb.url}/v2/visual_styles", headers=HEADERS).json()["code"] == 0


_SCOPE = LedgerScope.of("jogg", "https://api.jogg.ai", "user:a@example.com")


def test_a_schema_3_database_gets_the_videos_table_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    with Ledger(path) as ledger:
        run = ledger.start_run("apply", "jogg", "https://api.jogg.ai", "c.csv", "upsert")
        ledger.remember(_SCOPE, "NTQ0MTkzNjg", {"name": "Lamp"})
    with sqlite3.connect(path) as db:  # what catalog-sync with schema 3 wrote
        db.executescript("DROP INDEX videos_key; DROP TABLE videos; PRAGMA user_version=3;")
    with Ledger(path) as ledger:
        assert ledger.run(run) is not None and ledger.records(_SCOPE)
        entry = ledger.begin_video(_SCOPE, product_id="NTQ0MTkzNjg", settings="s", row=2, name="", run_id=run)
        ledger.update_video(entry, video_id="v1", status="processing")
        assert ledger.latest_video(_SCOPE, "NTQ0MTkzNjg", "s").video_id == "v1"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
