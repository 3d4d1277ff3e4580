"""`apply --report FILE.html` (issue 18 item 1) over real HTTP: the run's page holds every row with its
status, the failed row with its error, the conflict side by side; the status and action filters and
the search show exactly their rows; nothing leaves the page.  A cron job's ``report_format = "html"``
writes the same page."""

from __future__ import annotations

from tests.support.browser import open_page
from tests.support.jobs import blank_provider_env, credentials_file, write_config
from tests.support.review import HOSTILE_TITLE, edited_pull, only, visible_keys
from tests.support.sync import FAST, KEYS, env_for, fresh_catalog, run_cli, sandbox, write_rows


def test_apply_report_html_shows_each_rows_status_and_the_failed_rows_error(tmp_path):
    state = str(tmp_path / "state.db")
    report = tmp_path / "run.html"
    with sandbox("royalti") as sb:
        env, pulled = edited_pull(tmp_path, sb, state)
        # every update is answered 500 or 503: it may have been applied, so it ends unknown
        sb.set_faults(error_rate=1.0, error_methods="PUT", retry_after=0)
        args = ["apply", str(pulled), "-p", "royalti", "--state", state, "--mode", "mirror", *FAST]
        result = run_cli([*args, "--max-deletes", "1", "--yes", "--report", str(report)], env)
    assert result.exit_code == 4, result.output  # the unknown update and the conflict
    assert KEYS["royalti"] not in report.read_text(encoding="utf-8")

    with open_page(report) as opened:
        page = opened.page
        statuses = page.locator("article.row").evaluate_all(
            "rows => Object.fromEntries(rows.map(r => [r.querySelector('.label')?.textContent || r.dataset.key,"
            " r.dataset.action + ' ' + r.dataset.status]))"
        )
        assert statuses["New title"] == "update unknown"
        assert statuses["Added"] == "create ok"
        assert statuses["Sheet title"] == "conflict conflict"
        assert sum(1 for v in statuses.values() if v == "delete ok") == 1
        assert statuses[HOSTILE_TITLE] == "update unknown"  # text, never markup
        unknown = page.locator("article[data-status=unknown]")
        unknown_keys = sorted(unknown.evaluate_all("rows => rows.map(r => r.dataset.key)"))
        assert len(unknown_keys) == 2
        failed = unknown.filter(has_text="New title")
        error = failed.locator(".error").inner_text()
        assert error == "lost-answer: the answer to every attempt was lost"  # error_code: error
        assert failed.locator("tr[data-field=title] td.new.changed").inner_text() == "New title"
        conflict = page.locator("article[data-status=conflict]")
        assert "Remote title" in conflict.locator(".error").inner_text()
        assert conflict.locator("tr[data-field=title] td.remote").inner_text() == "Remote title"
        summary = page.locator("#summary").inner_text()
        assert "unknown 2, conflict 1, ok 4" in summary and "requests" in summary and "seconds" in summary

        failed_key = failed.get_attribute("data-key")
        only(page, "status", "unknown")
        assert sorted(visible_keys(page)) == unknown_keys
        only(page, "status", "ok")
        ok_keys = visible_keys(page)
        assert len(ok_keys) == sum(1 for v in statuses.values() if v.endswith(" ok"))
        only(page, "action", "create")
        assert len(visible_keys(page)) == 1
        for box in page.locator("input[type=checkbox]").all():
            box.check()
        page.locator("#search").fill(failed_key or "")
        assert visible_keys(page) == [failed_key]
        assert opened.requests == [report.resolve().as_uri()] and not opened.errors and not opened.dialogs


def test_a_row_the_provider_refused_shows_failed_with_the_providers_error(tmp_path):
    ghost = {
        "product_id": "Tk9QRVghost",
        "url": "",
        "name": "Ghost",
        "description": "d",
        "target_audience": "",
    }
    new = {**ghost, "product_id": "", "url": "https://shop.example.com/p/new", "name": "New one"}
    catalog = write_rows(tmp_path / "ghosts.csv", [ghost, new])  # JoggAI does not know the ghost's id
    report = tmp_path / "run.html"
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        args = ["apply", str(catalog), "-p", "jogg", "--state", str(tmp_path / "s.db"), *FAST, "--yes"]
        result = run_cli([*args, "--report", str(report)], env)
    assert result.exit_code == 4, result.output
    with open_page(report) as opened:
        page = opened.page
        failed = page.locator("article[data-status=failed]")
        assert failed.locator(".label").inner_text() == "Ghost"
        assert failed.locator(".error").inner_text().strip() != ""
        only(page, "status", "failed")
        assert visible_keys(page) == [failed.get_attribute("data-key")]
        only(page, "status", "ok")
        assert page.locator("article.row:visible .label").all_inner_texts() == ["New one"]
        assert opened.requests == [report.resolve().as_uri()] and not opened.errors


def test_a_job_with_report_format_html_writes_the_page(tmp_path):
    fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        creds = credentials_file(tmp_path, sb)
        config = write_config(
            tmp_path,
            f'credentials = "{creds.name}"\n[defaults]\nrate = 1000\n'
            '[jobs.labels]\nprovider = "royalti"\ncatalog = "catalog.csv"\nreport_format = "html"\n',
        )
        result = run_cli(["run", "--config", str(config)], blank_provider_env())
    assert result.exit_code == 0, result.output
    [page_file] = list((tmp_path / "reports").iterdir())
    assert page_file.name.startswith("labels-") and page_file.suffix == ".html"
    with open_page(page_file) as opened:
        assert opened.page.locator("article[data-status=ok][data-action=create]").count() >= 1
        assert (
            opened.page.locator("article.row").count()
            == opened.page.locator("article[data-status=ok]").count()
        )
