"""The documented answer forms the docs disagree on, end to end: a create answering
``product_video_id`` (URLtoVideo.mdx) and a poll in GetResult.mdx's shape (``id``,
``video_duration``, an ``error`` object under envelope code 0), from a scripted server."""

from __future__ import annotations

from pathlib import Path

from catalog_sync.run import Target
from catalog_sync.videos import VideosRequest, Waiter, run_videos
from tests.support.hostile_server import HostileServer
from tests.support.videos import KEY, FakeTime, video_row, write_sheet

ANSWERS = {
    "GET /v2/user/whoami": {"username": "u"},
    "GET /v2/user/remaining_quota": {"remaining_quota": "12"},
    "POST /v2/create_video_from_product": {"product_video_id": "pv_123456"},
    "GET /v2/product_video/pv_123456": {
        "id": "pv_123456", "status": "failed", "video_url": "", "cover_url": "", "video_duration": 0,
        "created_at": 1732806631, "error": {"code": 50000, "message": "Video generation failed"},
    },
}  # fmt: skip


def script(request, reply) -> None:
    data = ANSWERS.get(f"{request.method} {request.path}")
    if data is None:
        reply.json({"code": 10104, "msg": "Record not found", "data": None})
    else:
        reply.json({"code": 0, "msg": "Success", "data": data})


def test_the_guides_answer_forms_are_read(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id="NTIzMzc0NjI5")])
    fake = FakeTime()
    with HostileServer(script) as server:
        target = Target("jogg", server.url, tmp_path / "state.db", rate=1000, env={"JOGG_API_KEY": KEY})
        waiter = Waiter(sleep=fake.sleep, clock=fake.clock)
        outcome = run_videos(VideosRequest(target=target, sheet=str(sheet), wait=True, waiter=waiter))
        sent = [r for r in server.seen if r.method == "POST"]
    (row,) = outcome.rows
    assert (row["video_id"], row["status"]) == ("pv_123456", "failed")
    assert row["error"] == "50000: Video generation failed" and outcome.exit_code == 4
    assert outcome.cost is not None and outcome.cost.remaining == 12.0  # a number sent as text
    assert len(sent) == 1 and sent[0].json()["video_spec"] == {
        "length": "30",
        "aspect_ratio": "portrait",
        "caption": True,
    }
    assert fake.sleeps == [12]  # failed at the first poll: no more
