"""The review findings on the ``videos``/``options``/``sandbox`` commands (issue 11), in process
against the JoggAI sandbox over real HTTP."""

from __future__ import annotations

import io
import json
from pathlib import Path

import requests
from click.testing import CliRunner
from rich.console import Console

from catalog_sync.cli.main import cli
from catalog_sync.cli.videos_cmd import print_options
from catalog_sync.sandbox import Sandbox
from catalog_sync.videos import OptionList
from tests.support.videos import KEY, creates, env_for, jogg, make_products, video_row, write_sheet


def run(args: list[str], env: dict[str, str], **kwargs):
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False, **kwargs)


def test_an_invalid_sheet_lists_every_problem_writes_the_report_and_sends_nothing(tmp_path: Path) -> None:
    with jogg() as sb:
        rows = [video_row(product_id="Nw", length="20"), video_row(product_id="Nx", aspect_ratio="wide")]
        sheet = write_sheet(tmp_path / "videos.csv", rows)
        report = tmp_path / "problems.json"
        args = ["videos", str(sheet), "--yes", "--report", str(report), "--state", str(tmp_path / "s.db")]
        invalid = run(args, env_for(sb))
        seen = sb.stats()["requests"]
    assert invalid.exit_code == 3
    for cell in ("J2", "I3"):  # every problem, as validate lists them
        assert cell in invalid.stdout
    assert "catalog-sync validate" not in invalid.output and "nothing was sent" in invalid.stderr.lower()
    written = json.loads(report.read_text(encoding="utf-8"))
    assert [(p["code"], p["cell"]) for p in written["problems"]] == [
        ("not-in-enum", "J2"),
        ("not-in-enum", "I3"),
    ]
    assert not seen, seen  # not even whoami


def test_a_product_the_ledger_does_not_know_is_refused_before_any_request(tmp_path: Path) -> None:
    with jogg() as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(url="https://shop.example.com/never")])
        invalid = run(["videos", str(sheet), "--yes", "--state", str(tmp_path / "s.db")], env_for(sb))
        seen = sb.stats()["requests"]
    assert (
        invalid.exit_code == 3
        and "unknown-product" in invalid.stdout
        and "nothing was sent" in invalid.stderr.lower()
    )
    # only whoami (a free GET that changes nothing): the ledger's products are kept per account, and
    # the key's account is what JoggAI's whoami names
    assert seen == {"GET /v2/user/whoami": 1}, seen


def test_videos_for_another_provider_is_a_usage_error(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id="Nw")])
    wrong = run(["videos", str(sheet), "-p", "royalti", "--state", str(tmp_path / "s.db")], {})
    assert wrong.exit_code == 2 and "-p jogg" in wrong.output


def test_ctrl_c_at_the_prompt_exits_130_and_sends_nothing(tmp_path: Path, monkeypatch) -> None:
    import click

    with jogg() as sb:
        sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id=make_products(sb, 1)[0])])
        monkeypatch.setattr("catalog_sync.cli.videos_cmd._interactive", lambda: True)

        def interrupt(*args, **kwargs):
            raise click.Abort  # what click.confirm raises on Ctrl+C

        monkeypatch.setattr(click, "confirm", interrupt)
        stopped = run(["videos", str(sheet), "--state", str(tmp_path / "s.db")], env_for(sb))
        assert stopped.exit_code == 130, (
            stopped.output and "Aborted" not in stopped.output and creates(sb) == 0
        )
        reports = list((tmp_path / "reports").glob("videos-run-*.csv"))
        assert len(reports) == 1 and "not-started" in reports[0].read_text(encoding="utf-8-sig")


def test_an_unknown_row_gives_the_video_flows_advice_and_max_answer_mb_is_an_option(tmp_path: Path) -> None:
    from tests.support.hostile_server import HostileServer

    answers = {"GET /v2/user/whoami": {"username": "u"}, "GET /v2/user/remaining_quota": {"remaining_quota": 9},
               "POST /v2/create_video_from_product": {}, "GET /v2/product_videos": {"videos": [], "total": 0}}  # fmt: skip

    def script(req, reply) -> None:
        reply.json({"code": 0, "msg": "Success", "data": answers[f"{req.method} {req.path}"]})

    sheet = write_sheet(tmp_path / "videos.csv", [video_row(product_id="Nw")])
    with HostileServer(script) as server:
        env = {"JOGG_API_KEY": KEY, "JOGG_BASE_URL": server.url}
        args = [
            "videos",
            str(sheet),
            "--yes",
            "--json",
            "--max-answer-mb",
            "5",
            "--state",
            str(tmp_path / "s.db"),
        ]
        unknown = run(args, env)
    (row,) = json.loads(unknown.stdout)["rows"]
    assert unknown.exit_code == 4 and row["status"] == "unknown" and "--retry-unknown" in row["error"]
    for product_advice in ("fill product_id", "--resolve-unknown", "--force would"):
        assert product_advice not in unknown.output


def test_options_never_cut_the_id_column() -> None:
    listed = OptionList("voices", ["voice_id", "name", "language", "gender", "age", "accent", "use_case"], [
        {"voice_id": "en-US-ChristopherNeural", "name": "Christopher", "language": "English (United States)",
         "gender": "male", "age": "adult", "accent": "american", "use_case": "narration, news and more"}])  # fmt: skip
    for width in (50, 80, 200):
        out = io.StringIO()
        print_options(listed, Console(file=out, width=width, soft_wrap=False))
        assert "en-US-ChristopherNeural" in out.getvalue(), out.getvalue()


def test_piped_options_are_tab_separated_and_whole(tmp_path: Path) -> None:
    with jogg() as sb:
        piped = run(["options", "-p", "jogg", "voices"], env_for(sb))
    lines = piped.stdout.splitlines()
    assert lines[0].split("\t")[0] == "voice_id" and "en-US-ChristopherNeural" in [
        line.split("\t")[0] for line in lines[1:]
    ]


def test_sandbox_credits_are_set_at_start_over_a_kept_state_and_while_running(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.db"
    quota = "/v2/user/remaining_quota"
    with Sandbox("jogg", api_key=KEY, state_path=state, env={}, credits=3) as sb:
        assert requests.get(sb.url + quota, headers={"x-api-key": KEY}).json()["data"]["remaining_quota"] == 3
    with Sandbox("jogg", api_key=KEY, state_path=state, env={}, credits=40) as sb:
        assert (
            requests.get(sb.url + quota, headers={"x-api-key": KEY}).json()["data"]["remaining_quota"] == 40
        )
        assert requests.post(sb.url + "/_sandbox/credits", json={"credits": 7}).json() == {"credits": 7.0}
        assert requests.get(sb.url + quota, headers={"x-api-key": KEY}).json()["data"]["remaining_quota"] == 7
        assert requests.post(sb.url + "/_sandbox/credits", json={"credits": -1}).status_code == 400
    with Sandbox("jogg", api_key=KEY, state_path=state, env={}) as sb:  # not given: the kept credits
        assert requests.get(sb.url + quota, headers={"x-api-key": KEY}).json()["data"]["remaining_quota"] == 7
    helped = run(["sandbox", "--help"], {})
    assert "/_sandbox/clock" in helped.output and "/_sandbox/credits" in helped.output
