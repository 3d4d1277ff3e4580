"""``catalog-sync videos``, ``options`` and ``template --kind videos`` in process, against the sandbox."""

from __future__ import annotations

import csv
import functools
import json
import sqlite3
from pathlib import Path

import openpyxl
import requests
from click.testing import CliRunner

from catalog_sync.cli.main import cli
from catalog_sync.videos import list_options
from tests.support.videos import (
    COLUMNS,
    KEY,
    FakeTime,
    creates,
    env_for,
    jogg,
    make_products,
    video_row,
    write_sheet,
)


def run(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def product_catalog(folder: Path, n: int) -> Path:
    path = folder / "products.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["product_id", "url", "name", "description"])
        for i in range(n):
            writer.writerow(["", f"https://shop.example.com/p/{i}", f"Item {i}", f"Thing {i}"])
    return path


def test_a_5_row_video_sheet_run_twice_creates_exactly_5_videos_and_reports_5_urls(tmp_path: Path) -> None:
    with jogg() as sb:
        env = env_for(sb)
        state = ["--state", str(tmp_path / "state.db"), "--rate", "1000"]
        applied = run(["apply", str(product_catalog(tmp_path, 5)), "-p", "jogg", "--yes", *state], env)
        assert applied.exit_code == 0, applied.output
        # the products are named by url and by name: found through the ledger's product records
        rows = [video_row(url=f"https://shop.example.com/p/{i}") for i in range(3)]
        rows += [video_row(name=f"Item {i}", length="60") for i in (3, 4)]
        sheet = write_sheet(tmp_path / "videos.csv", rows)
        report = tmp_path / "videos-report.csv"
        first = run(["videos", str(sheet), "-p", "jogg", "--yes", "--report", str(report), *state], env)
        assert first.exit_code == 0, first.output
        assert "5 video(s) to create, 5 credit(s); 100 credit(s) left on the account" in first.stderr
        assert "knows no JoggAI video made earlier" in first.stderr
        second = run(["videos", str(sheet), "--yes", "--report", str(report), *state], env)
        assert second.exit_code == 0, second.output
        assert (
            "0 video(s) to create" in second.stderr and "5 row(s) already have their video" in second.stderr
        )
        assert creates(sb) == 5 and len(sb.state()["videos"]) == 5
        assert "knows no JoggAI video" not in second.stderr
        runs = run(["runs", "--state", str(tmp_path / "state.db"), "--json"], env)
        assert [r["command"] for r in json.loads(runs.stdout)["runs"]][:2] == ["videos", "videos"]
        with report.open(encoding="utf-8-sig", newline="") as fh:
            reported = list(csv.DictReader(fh))
        assert list(reported[0])[:8] == ["row", "product", "product_id", "action", "video_id", "status",
                                         "video_url", "cover_url"]  # fmt: skip
        urls = {r["video_url"] for r in reported}
        assert len(urls) == 5 and all(u.startswith("https://") and u.endswith(".mp4") for u in urls)
        assert [r["product"] for r in reported][3:] == ["name=Item 3", "name=Item 4"]
        assert {r["credits"] for r in reported} == {"1.0"}
        for path in (report, tmp_path / "state.db"):
            assert KEY.encode() not in path.read_bytes()
        assert KEY not in first.output + second.output


def test_wait_in_the_cli_shows_completed_videos(tmp_path: Path, monkeypatch) -> None:
    import catalog_sync.videos as videos

    with jogg(video_seconds=90) as sb:
        fake = FakeTime(sb)
        monkeypatch.setattr(
            videos, "Waiter", functools.partial(videos.Waiter, sleep=fake.sleep, clock=fake.clock)
        )
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0])])
        done = run(
            ["videos", str(sheet), "--yes", "--wait", "--json", "--state", str(tmp_path / "s.db")],
            env_for(sb),
        )
        assert done.exit_code == 0, done.output
        body = json.loads(done.stdout)
        assert body["rows"][0]["status"] == "completed" and body["summary"]["created"] == 1
        assert fake.sleeps and Path(body["report"]).exists()


def test_without_yes_and_no_terminal_nothing_is_sent(tmp_path: Path) -> None:
    with jogg() as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0])])
        refused = run(["videos", str(sheet), "--state", str(tmp_path / "s.db")], env_for(sb))
        assert refused.exit_code == 1 and "pass --yes" in refused.stderr
        assert "1 video(s) to create, 1 credit(s)" in refused.stderr and creates(sb) == 0


def test_max_credits_exits_6_and_credits_running_out_exits_4(tmp_path: Path) -> None:
    with jogg(credits=1) as sb:
        pids = make_products(sb, 2)
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=p) for p in pids])
        args = ["videos", str(sheet), "--yes", "--rate", "1000", "--state", str(tmp_path / "s.db")]
        limited = run([*args, "--max-credits", "1"], env_for(sb))
        assert limited.exit_code == 6 and "--max-credits is 1" in limited.stderr and creates(sb) == 0
        short = run(args, env_for(sb))
        assert short.exit_code == 4 and "no credit left" in short.stderr
        assert "do not cover the run" in short.stderr


def test_an_invalid_video_sheet_exits_3_with_the_validate_json(tmp_path: Path) -> None:
    with jogg() as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id="Nw", length="20")])
        invalid = run(
            ["videos", str(sheet), "--yes", "--json", "--state", str(tmp_path / "s.db")], env_for(sb)
        )
        assert invalid.exit_code == 3
        problem = json.loads(invalid.stdout)["problems"][0]
        assert (problem["code"], problem["cell"], problem["value"]) == ("not-in-enum", "J2", "20")


def test_videos_takes_no_house_rules(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id="Nw")])
    refused = run(["videos", str(sheet), "--schema", str(sheet)], {})
    assert refused.exit_code == 2 and "--schema" in refused.output


def test_template_kind_videos_writes_the_video_sheet(tmp_path: Path) -> None:
    out = tmp_path / "videos.xlsx"
    done = run(["template", "-p", "jogg", "--kind", "videos", "-o", str(out)], {})
    assert done.exit_code == 0, done.output
    sheet = openpyxl.load_workbook(out).active
    assert [c.value for c in sheet[1]] == COLUMNS
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["J2"] == '"15,30,60"' and "Storytime" in lists["M2"]
    wrong = run(["template", "-p", "royalti", "--kind", "videos", "-o", str(tmp_path / "x.xlsx")], {})
    assert wrong.exit_code == 2 and "-p jogg" in wrong.output


def test_options_lists_the_ids_as_a_table_and_as_json(tmp_path: Path) -> None:
    with jogg() as sb:
        table = run(["options", "-p", "jogg", "avatars"], env_for(sb))
        assert table.exit_code == 0 and "Noah" in table.stdout and "My Presenter" in table.stdout
        music = json.loads(run(["options", "music", "--json"], env_for(sb)).stdout)
        assert music["sheet_column"] == "music_id" and [m["id"] for m in music["items"]] == [1, 13, 21]
        styles = json.loads(run(["options", "styles", "--json"], env_for(sb)).stdout)
        assert "Simple Product Switch" in [s["name"] for s in styles["items"]]
        wrong = run(["options", "-p", "royalti", "voices"], env_for(sb))
        assert wrong.exit_code == 1 and "JoggAI" in wrong.stderr


def test_options_read_every_page_as_each_list_pages(tmp_path: Path) -> None:
    from catalog_sync.providers.jogg.client import JoggProvider

    with jogg() as sb, JoggProvider.from_env(base_url=sb.url, env={"JOGG_API_KEY": KEY}) as client:
        avatars = list_options(client, "avatars", page_size=1)  # total/page/page_size
        assert [(a["id"], a["avatar_type"]) for a in avatars.items] == [(1, 0), (81, 0), (127, 0), (9001, 1)]
        assert avatars.pages == 3 + 1  # 3 public pages (the total says when they end), 1 custom
        voices = list_options(client, "voices", page_size=2)  # has_more
        assert len(voices.items) == 3 and voices.pages == 2
        music = list_options(client, "music", page_size=2)  # pagination.total_pages
        assert len(music.items) == 3 and music.pages == 2


def test_a_merged_video_setting_is_refused_before_any_video_is_paid_for(tmp_path: Path) -> None:
    """Two rows under a merged caption (issue 17 item 11): the second would be made without it."""
    with jogg() as sb:
        products = make_products(sb, 2)
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(COLUMNS)
        for product in products:
            ws.append([video_row(product_id=product)[c] or None for c in COLUMNS])
        caption = COLUMNS.index("caption")
        ws.cell(3, caption + 1).value = None
        letter = openpyxl.utils.get_column_letter(caption + 1)
        ws.merge_cells(f"{letter}2:{letter}3")
        wb.save(tmp_path / "videos.xlsx")
        refused = run(
            ["videos", str(tmp_path / "videos.xlsx"), "--yes", "--state", str(tmp_path / "s.db")], env_for(sb)
        )
        assert refused.exit_code == 3, refused.output
        assert f"{letter}2:{letter}3 is merged" in refused.output
        assert creates(sb) == 0


def test_options_credits_shows_what_videos_can_still_spend(tmp_path: Path) -> None:
    with jogg() as sb:
        requests.post(sb.url + "/_sandbox/credits", json={"credits": 42.5}, timeout=10)
        shown = run(["options", "-p", "jogg", "credits"], env_for(sb))
        assert shown.exit_code == 0 and shown.stdout.strip() == "Remaining credits: 42.5", shown.output
        as_json = json.loads(run(["options", "-p", "jogg", "credits", "--json"], env_for(sb)).stdout)
    assert as_json["kind"] == "credits" and as_json["items"] == [{"remaining_credits": 42.5}]


def test_the_videos_table_names_the_video_and_its_product_and_keeps_ids_whole(tmp_path: Path) -> None:
    """issue 18 item 5: the table showed `product_id=…` and video ids cut at 80 columns."""
    with jogg() as sb:
        env = {**env_for(sb), "COLUMNS": "80"}
        state = ["--state", str(tmp_path / "state.db"), "--rate", "1000"]
        assert (
            run(["apply", str(product_catalog(tmp_path, 2)), "-p", "jogg", "--yes", *state], env).exit_code
            == 0
        )
        rows = [video_row(url="https://shop.example.com/p/0", video_name="Spring teaser")]
        rows.append(video_row(name="Item 1"))
        sheet = write_sheet(tmp_path / "videos.csv", rows)
        shown = run(["videos", str(sheet), "-p", "jogg", "--yes", *state], env)
        report = json.loads(run(["videos", str(sheet), "-p", "jogg", "--yes", "--json", *state], env).stdout)
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert "Spring teaser" in text and "Item 0" in text and "Item 1" in text and "(no name)" in text
    ids = [r["video_id"] for r in report["rows"]]
    flat = text.replace("│", " ").split()
    assert all(video_id in flat for video_id in ids), (ids, text)  # whole, never cut


def test_videos_report_refuses_an_existing_file_it_did_not_write(tmp_path: Path) -> None:
    with jogg() as sb:
        env = env_for(sb)
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(url="https://shop.example.com/p/0")])
        mine = tmp_path / "my-products.csv"
        mine.write_text("product_id,url\n1,https://shop.example.com/p/0\n", encoding="utf-8")
        state = ["--state", str(tmp_path / "state.db"), "--rate", "1000"]
        done = run(["videos", str(sheet), "-p", "jogg", "--yes", "--report", str(mine), *state], env)
        assert done.exit_code == 2 and str(mine) in done.stderr and "choose another name" in done.stderr
        assert mine.read_text(encoding="utf-8") == "product_id,url\n1,https://shop.example.com/p/0\n"
        assert creates(sb) == 0


def test_videos_written_before_the_ledger_kept_accounts_are_adopted_with_a_note(tmp_path: Path) -> None:
    with jogg() as sb:
        env = env_for(sb)
        state = ["--state", str(tmp_path / "state.db"), "--rate", "1000"]
        applied = run(["apply", str(product_catalog(tmp_path, 2)), "-p", "jogg", "--yes", *state], env)
        assert applied.exit_code == 0, applied.output
        sheet = write_sheet(
            tmp_path / "videos.csv", [video_row(url=f"https://shop.example.com/p/{i}") for i in range(2)]
        )
        first = run(["videos", str(sheet), "-p", "jogg", "--yes", *state], env)
        assert first.exit_code == 0 and creates(sb) == 2, first.output
        with sqlite3.connect(tmp_path / "state.db") as db:  # as a ledger from before accounts holds them
            for table in ("videos", "records"):
                db.execute(f"UPDATE {table} SET account=''")

        again = run(["videos", str(sheet), "-p", "jogg", "--yes", *state], env)
        assert again.exit_code == 0, again.output
        flat = " ".join(again.stderr.split())
        assert "note: the state database held" in flat and "written before it kept accounts" in flat
        assert "2 row(s) already have their video" in flat and creates(sb) == 2  # adopted: none made again
        said_once = run(["videos", str(sheet), "-p", "jogg", "--yes", *state], env)
        assert "before it kept accounts" not in " ".join(said_once.stderr.split())
