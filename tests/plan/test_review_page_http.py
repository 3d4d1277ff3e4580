"""`plan --html FILE` (issue 18 item 1) over real HTTP against the Royalti sandbox, the page opened
in a real headless Chromium: every change is in the DOM with its old and new cells marked, the
three-way conflict shows base / sheet / remote, the filters and the search show exactly their rows,
nothing leaves the page, and a screenshot is written."""

from __future__ import annotations

import json

from tests.support.browser import open_page
from tests.support.review import HOSTILE_TITLE, edited_pull, only, visible_keys
from tests.support.sync import FAST, KEYS, run_cli, sandbox, write_requests


def test_plan_html_holds_every_change_and_its_filters_show_exactly_their_rows(tmp_path):
    state = str(tmp_path / "state.db")
    page_file = tmp_path / "out" / "review.html"
    with sandbox("royalti") as sb:
        env, pulled = edited_pull(tmp_path, sb, state)
        before = write_requests(sb)
        args = ["plan", str(pulled), "-p", "royalti", "--state", state, "--mode", "mirror", *FAST]
        result = run_cli([*args, "--json", "--html", str(page_file)], env)
        assert result.exit_code == 4, result.stderr  # the plan holds a conflict
        assert write_requests(sb) == before  # a plan sends nothing
    assert f"Page to review written to {page_file}" in result.stderr
    plan = json.loads(result.stdout)
    changes = {c["key"]: c for c in plan["changes"]}
    by_action = {
        a: sorted(k for k, c in changes.items() if c["action"] == a)
        for a in ("create", "update", "delete", "conflict")
    }
    assert all(len(keys) >= 1 for keys in by_action.values()), by_action
    text = page_file.read_text(encoding="utf-8")
    assert KEYS["royalti"] not in text and '<link rel="stylesheet"' not in text and 'src="http' not in text

    with open_page(page_file) as opened:
        page = opened.page
        assert page.locator("article[data-action=unchanged]").count() == 0  # hidden until asked for
        page.locator("input[name=action][value=unchanged]").check()
        for key, change in changes.items():  # every change, each changed cell's old and new, marked
            row = page.locator("article.row").filter(has=page.locator(".key", has_text=key)).first
            assert row.get_attribute("data-action") == change["action"], key
            if change["action"] == "create":  # its values, field: value
                for name, diff in change["fields"].items():
                    if diff["new"]:
                        line = row.locator(f"table.values tr[data-field='{name}'] td.value")
                        assert line.inner_text() == diff["new"]
                continue
            for name, diff in change["fields"].items():
                line = row.locator(f"table.changes tr[data-field='{name}']")
                assert line.locator("td.old.changed").inner_text() == (diff["old"] or "")
                assert line.locator("td.new.changed").inner_text() == diff["new"]
        sheet_edit = next(c for c in changes.values() if c["values"].get("externalId") == "sheet-edit")
        assert set(sheet_edit["fields"]) == {"title", "label"}
        conflict = page.locator("article[data-action=conflict] table.conflicts tr[data-field=title]")
        assert [conflict.locator(f"td.{side}").inner_text() for side in ("base", "sheet", "remote")] == [
            "T both-differ",
            "Sheet title",
            "Remote title",
        ]
        assert page.get_by_text(HOSTILE_TITLE, exact=True).count() >= 1 and page.locator("img").count() == 0

        for action, keys in by_action.items():
            only(page, "action", action)
            assert sorted(visible_keys(page)) == keys, action
        for box in page.locator("input[name=action]").all():
            box.check()
        conflict_key = by_action["conflict"][0]
        page.locator("#search").fill(conflict_key)
        assert visible_keys(page) == [conflict_key]
        page.locator("#search").fill("")
        shot = page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
        assert opened.requests == [page_file.resolve().as_uri()] and not opened.dialogs and not opened.errors
    assert shot.startswith(b"\x89PNG") and (tmp_path / "review.png").stat().st_size > 10_000


def test_plan_html_never_overwrites_an_input_and_wants_an_html_name(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled = edited_pull(tmp_path, sb, state)
        base = ["plan", str(pulled), "-p", "royalti", "--state", state]
        kept = pulled.read_bytes()
        refused = run_cli([*base, "--html", str(tmp_path / "review.txt")], env)
        assert refused.exit_code == 2 and "the page must end in .html" in refused.stderr
        link = tmp_path / "catalog.html"
        link.symlink_to(pulled)
        refused = run_cli([*base, "--html", str(link)], env)
        assert refused.exit_code == 1 and "symbolic link" in refused.stderr
        state_page = tmp_path / "state.html"
        state_page.hardlink_to(state)  # the state database under another name: still an input
        refused = run_cli([*base, "--html", str(state_page)], env)
        assert refused.exit_code == 1 and "the state database this run reads" in refused.stderr
        assert pulled.read_bytes() == kept
