"""``--wait``: JoggAI's polling schedule, driven by a clock the test moves on (no sleeping)."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from catalog_sync.videos import PROVIDER_SCHEDULE, VideosRequest, Waiter, run_videos
from tests.support.videos import FakeTime, jogg, make_products, target, video_row, write_sheet


def test_the_schedule_is_the_providers_recommendation() -> None:
    # GetResult.mdx: first poll after 10-15 s, every 10 s for a minute, then 30 s, then 60 s
    delays = list(islice(PROVIDER_SCHEDULE.delays(), 18))
    assert delays[0] == 12 and delays[1:7] == [10] * 6
    assert delays[7:15] == [30] * 8 and delays[15:] == [60] * 3
    assert sum(delays[:15]) == 312  # the 30 s steps reach 5 minutes


def test_wait_polls_each_video_until_it_completes(tmp_path: Path) -> None:
    with jogg(video_seconds=300) as sb:  # a realistic 5 minutes, passed on the sandbox's clock
        pids = make_products(sb, 2)
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=p) for p in pids])
        fake = FakeTime(sb)
        polled = []
        from catalog_sync.videos import VideosHooks

        outcome = run_videos(
            VideosRequest(target=target(sb, tmp_path), sheet=str(sheet), wait=True,
                          waiter=Waiter(sleep=fake.sleep, clock=fake.clock)),
            VideosHooks(polled=lambda row: polled.append((row["row"], row["status"]))),
        )  # fmt: skip
        assert outcome.exit_code == 0
        assert [r["status"] for r in outcome.rows] == ["completed", "completed"]
        assert all(r["video_url"].endswith(".mp4") and r["cover_url"].endswith(".jpg") for r in outcome.rows)
        assert fake.sleeps[:8] == [12, 10, 10, 10, 10, 10, 10, 30] and sum(fake.sleeps) == 312
        gets = sum(
            n for route, n in sb.stats()["requests"].items() if route == "GET /v2/product_video/{video_id}"
        )
        assert gets == 2 * 15 and len(polled) == 30  # 15 polls of each video, then none
        assert polled[-2:] == [(2, "completed"), (3, "completed")]


def test_a_wait_that_runs_out_reports_the_videos_still_processing(tmp_path: Path) -> None:
    with jogg(video_seconds=3600) as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0])])
        fake = FakeTime(sb)
        waiter = Waiter(timeout=120, sleep=fake.sleep, clock=fake.clock)
        outcome = run_videos(
            VideosRequest(target=target(sb, tmp_path), sheet=str(sheet), wait=True, waiter=waiter)
        )
        assert outcome.rows[0]["status"] == "processing" and outcome.exit_code == 4
        assert outcome.error is not None and "still processing" in outcome.error.message
        assert sum(fake.sleeps) <= 120


def test_wait_on_a_rerun_waits_for_the_videos_made_before(tmp_path: Path) -> None:
    with jogg(video_seconds=60) as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0])])
        first = run_videos(VideosRequest(target=target(sb, tmp_path), sheet=str(sheet)))
        assert first.rows[0]["status"] == "processing"
        fake = FakeTime(sb)
        waiter = Waiter(sleep=fake.sleep, clock=fake.clock)
        again = run_videos(
            VideosRequest(target=target(sb, tmp_path), sheet=str(sheet), wait=True, waiter=waiter)
        )
        assert again.rows[0]["action"] == "keep" and again.rows[0]["status"] == "completed"
