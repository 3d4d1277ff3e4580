"""``run_videos`` against the JoggAI sandbox over real HTTP: create, rerun, settings, credits, failures,
lost answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog_sync.errors import InvalidCatalogError, LimitExceededError
from catalog_sync.sandbox import FaultConfig
from catalog_sync.state import Ledger
from catalog_sync.videos import VideosHooks, VideosRequest, Waiter, run_videos
from tests.support.sync import ledger_scope
from tests.support.videos import (
    CREATE,
    KEY,
    FakeTime,
    creates,
    jogg,
    make_products,
    target,
    video_row,
    write_sheet,
)


def request(sb, folder: Path, sheet: Path, **options) -> VideosRequest:
    return VideosRequest(
        target=target(sb, folder), sheet=str(sheet), report=folder / "report.json", **options
    )


def test_create_sends_the_nested_body_and_records_each_video(tmp_path: Path) -> None:
    with jogg(video_seconds=600) as sb:
        pids = make_products(sb, 2)
        sheet = write_sheet(
            tmp_path / "videos.csv",
            [video_row(product_id=pids[0], video_name="Spring", script_style="top 3 REASONS"),
             video_row(product_id=pids[1], aspect_ratio="Square", caption="no", length="60")],
        )  # fmt: skip
        outcome = run_videos(request(sb, tmp_path, sheet))
        videos = sb.state()["videos"]
        assert outcome.exit_code == 0 and outcome.error is None
        assert [r["status"] for r in outcome.rows] == ["processing", "processing"]
        assert [r["video_id"] for r in outcome.rows] == [v["id"] for v in videos]
        assert [v["title"] for v in videos] == ["Spring", "Product 1"]
        first, second = sb.state()["video_requests"]
        assert first == {
            "product_id": pids[0],
            "video_spec": {"length": "30", "aspect_ratio": "portrait", "caption": True, "name": "Spring"},
            "avatar": {"id": 81, "type": 0},
            "voice": {"id": "en-US-ChristopherNeural"},
            "audio": {"music_id": 13},
            "script": {"style": "Top 3 reasons", "language": "english"},
        }
        assert second["video_spec"] == {"length": "60", "aspect_ratio": "square", "caption": False}
        # 1 credit per 2 minutes of video, at least 1: two videos of 30 s and 60 s take 2
        assert outcome.cost is not None and (outcome.cost.videos, outcome.cost.credits) == (2, 2.0)
        assert outcome.cost.remaining == 100.0 and sb.state()["credits"] == 98.0
        report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
        assert [r["video_id"] for r in report["rows"]] == [v["id"] for v in videos]
        with Ledger(tmp_path / "state.db") as ledger:
            known = ledger.videos(ledger_scope("jogg", sb.url, KEY))
        assert [(v.product_id, v.video_id, v.status) for v in known] == [
            (pids[0], videos[0]["id"], "processing"),
            (pids[1], videos[1]["id"], "processing"),
        ]


def test_a_rerun_creates_nothing_and_a_changed_setting_creates_one(tmp_path: Path) -> None:
    with jogg() as sb:
        pids = make_products(sb, 3)
        rows = [video_row(product_id=p) for p in pids]
        sheet = write_sheet(tmp_path / "videos.csv", rows)
        assert run_videos(request(sb, tmp_path, sheet)).exit_code == 0
        assert creates(sb) == 3
        again = run_videos(request(sb, tmp_path, sheet))
        assert creates(sb) == 3, "a rerun sent a create"
        assert [r["action"] for r in again.rows] == ["keep"] * 3
        assert [r["status"] for r in again.rows] == ["completed"] * 3  # refreshed by a (free) GET
        assert all(r["video_url"].endswith(".mp4") for r in again.rows)
        rows[1]["script_style"] = "Discovery"
        rows[2]["webhook_url"] = "https://example.com/hook"  # not a setting of the video
        changed = run_videos(request(sb, tmp_path, write_sheet(tmp_path / "videos.csv", rows)))
        assert creates(sb) == 4
        assert [r["action"] for r in changed.rows] == ["keep", "create", "keep"]
        assert len(sb.state()["videos"]) == 4


def test_force_creates_again(tmp_path: Path) -> None:
    with jogg() as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0])])
        run_videos(request(sb, tmp_path, sheet))
        forced = run_videos(request(sb, tmp_path, sheet, force=True))
        assert creates(sb) == 2 and forced.rows[0]["action"] == "create"


def test_credits_running_out_mid_run_stop_creating_and_exit_4(tmp_path: Path) -> None:
    with jogg(credits=2) as sb:
        pids = make_products(sb, 4)
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=p) for p in pids])
        outcome = run_videos(request(sb, tmp_path, sheet))
        assert outcome.exit_code == 4
        assert outcome.cost is not None and outcome.cost.short  # said before sending
        assert [r["status"] for r in outcome.rows] == ["processing", "processing", "failed", "not-started"]
        assert "18020" in outcome.rows[2]["error"] and "not started" in outcome.rows[3]["error"]
        assert outcome.error is not None and "no credit left" in outcome.error.message
        assert creates(sb) == 3  # the fourth was never sent
        assert len(sb.state()["videos"]) == 2 and sb.state()["credits"] == 0.0
        # with credits added, the rerun makes only the two missing videos
        sb.store.set_meta("credits", 10.0)
        rerun = run_videos(request(sb, tmp_path, sheet))
        assert rerun.exit_code == 0 and creates(sb) == 5
        assert [r["action"] for r in rerun.rows] == ["keep", "keep", "create", "create"]
        assert len(sb.state()["videos"]) == 4


def test_max_credits_refuses_the_run_before_anything_is_sent(tmp_path: Path) -> None:
    with jogg() as sb:
        pids = make_products(sb, 3)
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=p) for p in pids])
        with pytest.raises(LimitExceededError, match="3 credits") as refused:
            run_videos(request(sb, tmp_path, sheet, max_credits=2))
        assert refused.value.exit_code == 6 and creates(sb) == 0


def test_the_cost_is_shown_before_confirming_and_a_refusal_sends_nothing(tmp_path: Path) -> None:
    seen = []

    def refuse(cost) -> None:
        seen.append(("confirm", cost.videos))
        raise InterruptedError("no")

    with jogg() as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0])])
        hooks = VideosHooks(cost=lambda cost: seen.append(("cost", cost.credits)), confirm=refuse)
        with pytest.raises(InterruptedError):
            run_videos(request(sb, tmp_path, sheet), hooks)
        assert seen == [("cost", 1.0), ("confirm", 1)] and creates(sb) == 0


def test_a_failed_video_is_reported_with_its_error(tmp_path: Path) -> None:
    with jogg(video_seconds=30, video_fail_rate=1.0) as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0])])
        fake = FakeTime(sb)
        waiter = Waiter(sleep=fake.sleep, clock=fake.clock)
        outcome = run_videos(request(sb, tmp_path, sheet, wait=True, waiter=waiter))
        (row,) = outcome.rows
        assert row["status"] == "failed" and row["error"] == "50000: Video generation failed"
        assert outcome.exit_code == 4 and "1 failed" in (outcome.error.message if outcome.error else "")
        # a rerun does not pay for it again, unless asked to
        assert run_videos(request(sb, tmp_path, sheet)).rows[0]["action"] == "keep"
        retried = run_videos(request(sb, tmp_path, sheet, retry_failed=True))
        assert retried.rows[0]["action"] == "create" and creates(sb) == 2


def test_a_lost_create_answer_is_found_in_the_video_list_not_created_again(tmp_path: Path) -> None:
    with jogg() as sb:
        pids = make_products(sb, 3)
        rows = [video_row(product_id=p, video_name=f"clip {i}") for i, p in enumerate(pids)]
        rows[2]["video_name"] = ""  # found by product and time alone
        sheet = write_sheet(tmp_path / "videos.csv", rows)

        def lose_create_answers(cost) -> None:  # from here on every POST is processed, its answer lost
            sb.set_faults(lost_answer_rate=1.0, lost_answer_methods="POST")

        outcome = run_videos(request(sb, tmp_path, sheet), VideosHooks(confirm=lose_create_answers))
        videos = sb.state()["videos"]
        assert sb.stats()["faults"]["lost_answer"] == 3
        assert creates(sb) == 3 and len(videos) == 3  # each create sent once
        assert [r["video_id"] for r in outcome.rows] == [v["id"] for v in videos]
        assert outcome.exit_code == 0, outcome.rows
        sb.set_faults(lost_answer_rate=0.0)
        rerun = run_videos(request(sb, tmp_path, sheet))
        assert creates(sb) == 3 and [r["action"] for r in rerun.rows] == ["keep"] * 3


def test_a_create_a_dead_run_left_in_flight_is_settled_by_the_next_run(tmp_path: Path) -> None:
    with jogg() as sb:
        pid = make_products(sb, 1)[0]
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=pid, video_name="Lost one")])
        first = run_videos(request(sb, tmp_path, sheet))
        made = first.rows[0]["video_id"]
        with Ledger(tmp_path / "state.db") as ledger:  # as if the run died between send and answer
            (entry,) = ledger.videos(ledger_scope("jogg", sb.url, KEY))
            ledger.update_video(entry.id, video_id=None, status="sending")
        again = run_videos(request(sb, tmp_path, sheet))
        assert creates(sb) == 1 and again.rows[0]["video_id"] == made and again.rows[0]["action"] == "keep"


def test_a_lost_create_not_found_stays_unknown_and_is_never_resent(tmp_path: Path) -> None:
    with jogg() as sb:
        pid = make_products(sb, 1)[0]
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=pid, video_name="Ghost")])
        run_videos(request(sb, tmp_path, sheet))
        assert sb.store.delete("videos", sb.state()["videos"][0]["id"])  # the video list no longer shows it
        with Ledger(tmp_path / "state.db") as ledger:
            (entry,) = ledger.videos(ledger_scope("jogg", sb.url, KEY))
            ledger.update_video(entry.id, video_id=None, status="sending")
        outcome = run_videos(request(sb, tmp_path, sheet))
        assert outcome.rows[0]["status"] == "unknown" and outcome.exit_code == 4
        assert sb.stats()["requests"].get(CREATE) == 1


@pytest.mark.parametrize(
    ("values", "code", "column"),
    [
        ({"length": "45"}, "not-in-enum", "length"),
        ({"aspect_ratio": "wide"}, "not-in-enum", "aspect_ratio"),
        ({"avatar_type": "2"}, "not-in-enum", "avatar_type"),
        ({"script_style": "Poem"}, "not-in-enum", "script_style"),
        ({"avatar_id": ""}, "required", "avatar_id"),
        ({"product_id": "", "url": "https://shop.example.com/never-created"}, "unknown-product", "url"),
    ],
)
def test_an_invalid_sheet_exits_3_and_sends_nothing(tmp_path: Path, values, code, column) -> None:
    with jogg() as sb:
        row = video_row(**{"product_id": make_products(sb, 1)[0], **values})
        sheet = write_sheet(tmp_path / "videos.csv", [row])
        with pytest.raises(InvalidCatalogError) as invalid:
            run_videos(request(sb, tmp_path, sheet))
        report = invalid.value.context["report"]
        assert invalid.value.exit_code == 3
        assert [(p.code, p.column) for p in report.errors] == [(code, column)]
        assert creates(sb) == 0


def test_two_rows_asking_for_the_same_video_are_a_duplicate_key(tmp_path: Path) -> None:
    with jogg() as sb:
        pid = make_products(sb, 1)[0]
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=pid), video_row(product_id=pid)])
        with pytest.raises(InvalidCatalogError) as invalid:
            run_videos(request(sb, tmp_path, sheet))
        (problem,) = invalid.value.context["report"].errors
        assert (problem.code, problem.row) == ("duplicate-key", 3) and creates(sb) == 0


def test_the_create_shares_the_client_limiter_with_product_writes(tmp_path: Path) -> None:
    """Product creates and video creates of one client wait on one limiter (20 POST/min per key)."""
    from catalog_sync.providers.jogg.client import JoggProvider
    from catalog_sync.providers.ratelimit import RateLimiter

    with jogg(faults=FaultConfig()) as sb:
        client = JoggProvider.from_env(base_url=sb.url, env={"JOGG_API_KEY": sb.api_key})
        fake = FakeTime()
        client.pacing.writes = RateLimiter(client.rate, clock=fake.clock, sleep=fake.sleep)  # the POST cap
        pid = client.create({"name": "Lamp"}).remote_id
        from catalog_sync.videos.sheet import video_body

        fields = {k: v for k, v in video_row().items()}
        client.create_video(video_body(fields, pid))
        client.video_status(sb.state()["videos"][0]["id"])  # GETs are not paced
        client.remaining_credits()
        client.create_video(video_body({**fields, "length": "15"}, pid))
        assert client.rate == pytest.approx(20 / 60)
        assert fake.sleeps == [pytest.approx(3.0), pytest.approx(3.0)]


def test_the_report_is_written_as_xlsx_too(tmp_path: Path) -> None:
    from catalog_sync.sheets.write.report import read_report

    with jogg() as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=p) for p in make_products(sb, 2)])
        run_videos(request(sb, tmp_path, sheet))
        again = VideosRequest(target=target(sb, tmp_path), sheet=str(sheet), report=tmp_path / "report.xlsx")
        written = run_videos(again).report
        frame = read_report(written)
        assert list(frame.columns)[:6] == ["row", "product", "product_id", "action", "video_id", "status"]
        assert frame["status"].tolist() == ["completed", "completed"]
        assert frame["video_url"].str.endswith(".mp4").all() and frame["video_id"].tolist() == [
            v["id"] for v in sb.state()["videos"]
        ]
