# mypy: disable-error-code="attr-defined"
"""The review findings on ``catalog-sync videos`` (issue 11): creates that never reached JoggAI,
interrupted runs, a video list that never ends, statuses, URLs, ids and credits a hostile
provider answers.  Against the sandbox and tests/support/hostile_server.py, over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.errors import FatalProviderError, Terminated
from catalog_sync.run import Target
from catalog_sync.state import Ledger
from catalog_sync.videos import VideosHooks, VideosRequest, Waiter, run_videos
from catalog_sync.videos.settle import SETTLE_MAX_PAGES
from tests.support.hostile_server import HostileServer
from tests.support.sync import ledger_scope
from tests.support.videos import KEY, FakeTime, creates, jogg, make_products, target, video_row, write_sheet


def request(sb, folder: Path, sheet: Path, **options) -> VideosRequest:
    return VideosRequest(
        target=target(sb, folder), sheet=str(sheet), report=folder / "report.json", **options
    )


def lose_the_video(sb, folder: Path) -> None:
    """As if the only create's send never reached JoggAI: no video, the ledger entry ``sending``."""
    assert sb.store.delete("videos", sb.state()["videos"][0]["id"])
    with Ledger(folder / "state.db") as ledger:
        (entry,) = ledger.videos(ledger_scope("jogg", sb.url, KEY))
        ledger.update_video(entry.id, video_id=None, status="sending")


# ---------------------------------------------------------------------------------- 1. never created
def test_a_create_the_list_shows_never_reached_jogg_is_created_again(tmp_path: Path) -> None:
    with jogg() as sb:
        pids = make_products(sb, 2)
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=pids[0], video_name="Ghost")])
        run_videos(request(sb, tmp_path, sheet))
        lose_the_video(sb, tmp_path)
        sb.emulator.advance_clock(3600)  # an hour on, JoggAI has made another video since
        other = write_sheet(tmp_path / "other.csv", [video_row(product_id=pids[1])])
        run_videos(VideosRequest(target=Target("jogg", sb.url, tmp_path / "other.db", rate=1000,
                                               env={"JOGG_API_KEY": KEY}), sheet=str(other)))  # fmt: skip
        assert creates(sb) == 2
        outcome = run_videos(request(sb, tmp_path, sheet))
        (row,) = outcome.rows
        assert (row["action"], outcome.exit_code) == ("create", 0) and row["video_id"]
        assert "never reached JoggAI" in row["note"] and creates(sb) == 3
        with Ledger(tmp_path / "state.db") as ledger:
            statuses = [(v.status, v.credits) for v in ledger.videos(ledger_scope("jogg", sb.url, KEY))]
        assert statuses[0] == ("not-created", 0.0) and len(statuses) == 2
        again = run_videos(request(sb, tmp_path, sheet))
        assert again.rows[0]["action"] == "keep" and creates(sb) == 3 and again.exit_code == 0


def test_a_create_sent_long_ago_and_not_listed_is_created_again(tmp_path: Path) -> None:
    with jogg() as sb:
        pid = make_products(sb, 1)[0]
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=pid, video_name="Old")])
        run_videos(request(sb, tmp_path, sheet))
        lose_the_video(sb, tmp_path)
        long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
        with sqlite3.connect(tmp_path / "state.db") as db:
            db.execute("UPDATE videos SET sent_at=?", (long_ago,))
        outcome = run_videos(request(sb, tmp_path, sheet))
        assert outcome.rows[0]["action"] == "create" and outcome.exit_code == 0 and creates(sb) == 2


def test_retry_unknown_creates_an_unknown_row_again_with_a_warning(tmp_path: Path) -> None:
    with jogg() as sb:
        pid = make_products(sb, 1)[0]
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=pid, video_name="Ghost")])
        run_videos(request(sb, tmp_path, sheet))
        lose_the_video(sb, tmp_path)  # sent seconds ago: it may still appear, so it stays unknown
        assert run_videos(request(sb, tmp_path, sheet)).rows[0]["status"] == "unknown"
        retried = run_videos(request(sb, tmp_path, sheet, retry_unknown=True))
        (row,) = retried.rows
        assert row["action"] == "create" and row["video_id"] and creates(sb) == 2
        assert "may have made a video too" in row["note"] and retried.exit_code == 0
        assert run_videos(request(sb, tmp_path, sheet)).rows[0]["action"] == "keep"


# ---------------------------------------------------------------------------------- 2. interrupted
def test_an_interrupted_run_records_its_rows_and_writes_the_report(tmp_path: Path) -> None:
    with jogg() as sb:
        pids = make_products(sb, 3)
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=p) for p in pids])

        def terminate_after_the_first(row: dict[str, Any]) -> None:
            raise Terminated("SIGTERM")

        outcome = run_videos(request(sb, tmp_path, sheet), VideosHooks(created=terminate_after_the_first))
        assert outcome.exit_code == 143 and outcome.error is not None and creates(sb) == 1
        assert [r["status"] for r in outcome.rows] == ["processing", "not-started", "not-started"]
        report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
        assert [r["status"] for r in report["rows"]] == ["processing", "not-started", "not-started"]
        with Ledger(tmp_path / "state.db") as ledger:
            (run,) = ledger.runs()
            outcomes = ledger.outcomes(run["id"])
        assert run["exit_code"] == 143 and run["stopped"] == "interrupted"
        assert [o["status"] for o in outcomes] == ["processing", "not-started", "not-started"]
        rerun = run_videos(request(sb, tmp_path, sheet))
        assert [r["action"] for r in rerun.rows] == ["keep", "create", "create"] and creates(sb) == 3


# ---------------------------------------------------------------------------------- hostile JoggAI
def hostile(answers: dict[str, Any], *, posts: list[Any] | None = None):
    """A scripted JoggAI: ``answers`` by "METHOD /path" (a callable gets the request); ``posts``:
    the create answers in turn."""
    queue = list(posts or [])

    def script(req, reply) -> None:
        key = f"{req.method} {req.path}"
        if key == "POST /v2/create_video_from_product" and queue:
            data = queue.pop(0)
        elif key in answers:
            data = answers[key](req) if callable(answers[key]) else answers[key]
        else:
            reply.json({"code": 10104, "msg": "Record not found", "data": None})
            return
        reply.json({"code": 0, "msg": "Success", "data": data})

    return HostileServer(script)


BASE = {"GET /v2/user/whoami": {"username": "u"}, "GET /v2/user/remaining_quota": {"remaining_quota": 50}}


def hostile_run(server, folder: Path, rows: int = 1, **options) -> Any:
    sheet = write_sheet(folder / "videos.csv", [video_row(product_id=f"P{i}") for i in range(rows)])
    tgt = Target("jogg", server.url, folder / "state.db", rate=1000, env={"JOGG_API_KEY": KEY})
    return run_videos(VideosRequest(target=tgt, sheet=str(sheet), report=folder / "report.json", **options))


def listed(n: int, start: int = 0) -> list[dict[str, Any]]:
    """``n`` videos of another product, made now (so the look-up cannot stop at an old one)."""
    now = int(time.time())
    return [{"id": f"v{start + i}", "product_id": "other", "created_at": now, "status": 4} for i in range(n)]


@pytest.mark.parametrize(
    ("page", "most"),
    [
        (lambda req: {"videos": listed(100), "total": "x"}, 1),  # not a number: cannot tell
        (lambda req: {"videos": listed(100), "total": 10**9}, 2),  # the same page again
        (lambda req: {"videos": listed(100, 100 * int(req.query["page"])), "total": 10**9}, SETTLE_MAX_PAGES),
    ],
)
def test_the_settle_look_up_is_bounded(tmp_path: Path, page, most: int) -> None:
    with hostile({**BASE, "GET /v2/product_videos": page}, posts=[{}]) as server:  # the answer has no id
        outcome = hostile_run(server, tmp_path)
        pages = sum(1 for p in server.paths() if p == "GET /v2/product_videos")
    assert pages == most and outcome.rows[0]["status"] == "unknown" and outcome.exit_code == 4


def poll_answers(statuses: list[Any], **extra: Any) -> dict[str, Any]:
    answers = {**BASE}
    for i, status in enumerate(statuses):
        answers[f"GET /v2/product_video/v{i}"] = {"id": f"v{i}", "status": status, **extra}
    return answers


def test_poll_statuses_are_the_documented_union_or_a_contract_problem(tmp_path: Path) -> None:
    statuses = ["rendering-ish", 99, 4, 5, "COMPLETED", "Failed", None]
    posts = [{"video_id": f"v{i}"} for i in range(len(statuses))]
    fake = FakeTime()
    with hostile(poll_answers(statuses), posts=posts) as server:
        outcome = hostile_run(server, tmp_path, rows=len(statuses), wait=True,
                              waiter=Waiter(sleep=fake.sleep, clock=fake.clock))  # fmt: skip
        scope = ledger_scope("jogg", server.url, KEY)
    got = [r["status"] for r in outcome.rows]
    assert got == ["unknown", "unknown", "completed", "failed", "completed", "failed", "unknown"]
    assert "'rendering-ish'" in outcome.rows[0]["error"] and "99" in outcome.rows[1]["error"]
    assert "no video status" in outcome.rows[6]["error"] and outcome.exit_code == 4
    with Ledger(tmp_path / "state.db") as ledger:
        assert ledger.videos(scope)[0].status == "unreadable"  # polled again by the next run


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"video_url": "javascript:alert(1)"}, "not an http(s) URL"),
        ({"video_url": "https://cdn.example.com/" + "a" * 5000}, "characters long"),
        ({"cover_url": "https://cdn.example.com/a b.jpg"}, "spaces or control"),
        ({"id": "v999"}, "video 'v999'"),
        ({"deducted_credit": -5}, "deducted_credit"),
        ({"deducted_credit": "lots"}, "deducted_credit"),
    ],
)
def test_hostile_poll_answers_are_refused_for_the_row(
    tmp_path: Path, answer: dict[str, Any], error: str
) -> None:
    answers = {**BASE, "GET /v2/product_video/v0": {"id": "v0", "status": "completed",
                                                     "video_url": "https://cdn.example.com/v0.mp4", **answer}}  # fmt: skip
    with hostile(answers, posts=[{"video_id": "v0"}]) as server:
        fake = FakeTime()
        outcome = hostile_run(server, tmp_path, wait=True, waiter=Waiter(sleep=fake.sleep, clock=fake.clock))
        scope = ledger_scope("jogg", server.url, KEY)
    (row,) = outcome.rows
    assert row["status"] == "unknown" and error in row["error"] and outcome.exit_code == 4
    assert row["video_url"] == row["cover_url"] == "" and "alert(1)" not in json.dumps(outcome.rows)
    report = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert "alert(1)" not in report and "a" * 5000 not in report
    with Ledger(tmp_path / "state.db") as ledger:
        (entry,) = ledger.videos(scope)
    assert (entry.status, entry.video_url, entry.cover_url) == ("unreadable", "", "")


def test_a_video_id_another_row_holds_is_refused_and_stops_creating(tmp_path: Path) -> None:
    with hostile(BASE, posts=[{"video_id": "v1"}, {"video_id": "v1"}, {"video_id": "v2"}]) as server:
        outcome = hostile_run(server, tmp_path, rows=3)
        sent = sum(1 for p in server.paths() if p.startswith("POST"))
    assert [r["status"] for r in outcome.rows] == ["processing", "unknown", "not-started"]
    assert "holds for sheet row 2" in outcome.rows[1]["error"] and outcome.rows[1]["video_id"] == ""
    assert sent == 2 and outcome.exit_code == 4


@pytest.mark.parametrize("quota", [-3, "plenty", [1]])
def test_a_negative_or_non_numeric_quota_stops_the_run_before_creating(tmp_path: Path, quota) -> None:
    with hostile({**BASE, "GET /v2/user/remaining_quota": {"remaining_quota": quota}}) as server:
        with pytest.raises(FatalProviderError) as refused:
            hostile_run(server, tmp_path)
        sent = [p for p in server.paths() if p.startswith("POST")]
    assert refused.value.exit_code == 1 and "remaining_quota" in refused.value.message and sent == []


def test_no_credit_known_before_the_run_sends_no_create(tmp_path: Path) -> None:
    with hostile(
        {**BASE, "GET /v2/user/remaining_quota": {"remaining_quota": 0}}, posts=[{"video_id": "v0"}]
    ) as server:
        outcome = hostile_run(server, tmp_path, rows=2)
        sent = [p for p in server.paths() if p.startswith("POST")]
    assert sent == [] and outcome.exit_code == 4
    assert [r["status"] for r in outcome.rows] == ["not-started", "not-started"]
    assert "0 credit(s) left" in outcome.rows[0]["error"]


def test_keep_rows_spend_nothing_in_the_report(tmp_path: Path) -> None:
    with jogg() as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=p) for p in make_products(sb, 2)])
        first = run_videos(request(sb, tmp_path, sheet))
        again = run_videos(request(sb, tmp_path, sheet))
    assert [r["credits_spent"] for r in first.rows] == [1.0, 1.0] and first.summary["credits_spent"] == 2
    assert [(r["credits"], r["credits_spent"]) for r in again.rows] == [(1.0, 0.0), (1.0, 0.0)]
    assert again.summary["credits_spent"] == 0


def test_a_length_a_spreadsheet_wrote_as_15_0_is_15(tmp_path: Path) -> None:
    with jogg() as sb:
        sheet = write_sheet(
            tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0], length="15.0")]
        )
        outcome = run_videos(request(sb, tmp_path, sheet))
        (sent,) = sb.state()["video_requests"]
    assert outcome.exit_code == 0 and sent["video_spec"]["length"] == "15"


@pytest.mark.parametrize(
    "created_at",
    [
        lambda now: now * 1000,  # milliseconds
        lambda now: now + 10 * 365 * 86400,  # ten years ahead
        lambda now: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)),  # an ISO time without a zone
    ],
    ids=["milliseconds", "far-future", "iso-without-zone"],
)
def test_a_listed_video_with_an_implausible_time_keeps_the_lost_create_unknown(
    tmp_path: Path, created_at
) -> None:
    """Issue 17 item 4: a video of the row's product whose created_at cannot be trusted means "cannot
    tell": the lost create stays unknown and no second (paid) video is made."""
    now = int(time.time())
    videos = {
        "videos": [{"id": "v1", "product_id": "P0", "created_at": created_at(now), "status": 4}],
        "total": 1,
    }
    with hostile({**BASE, "GET /v2/product_videos": videos}, posts=[{}, {"video_id": "v2"}]) as server:
        first = hostile_run(server, tmp_path)  # the create's answer has no id: unknown
        second = hostile_run(server, tmp_path)  # the list shows a video it cannot date
        creates = sum(1 for p in server.paths() if p == "POST /v2/create_video_from_product")
    assert first.rows[0]["status"] == "unknown" and second.rows[0]["status"] == "unknown", second.rows
    assert creates == 1  # never a second video on a guess
