"""The page to review (issue 18 item 1) in a real headless Chromium: a cell is only ever text, the
page fetches nothing, and a plan of 10,000 rows opens and filters.  The plans of a real sandbox are
in test_review_page_http.py; these are built directly so each can hold exactly what it tests."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from catalog_sync.planning.model import Change, Plan
from catalog_sync.planning.review_page import review_page, script_json, write_review_page
from tests.support.browser import open_page
from tests.support.review import visible_keys

HOSTILE = "</script><img src=x onerror=alert(1)>"


def _plan(changes: list[Change]) -> Plan:
    return Plan(provider="royalti", catalog="cat.csv", base_url="http://127.0.0.1:9/api", changes=changes)


def test_the_data_cannot_close_its_script_element():
    text = script_json({"a": HOSTILE + "<!-- \u2028 \u2029 & >"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"a": HOSTILE + "<!-- \u2028 \u2029 & >"}
    page = review_page(
        _plan([Change(row=2, key=HOSTILE, action="create", fields={"title": {"old": "", "new": HOSTILE}})])
    )
    assert page.count("</script>") == 2  # the data's element and the script's, nothing from a cell
    assert "<img" not in page


def test_a_hostile_cell_shows_as_text_and_runs_nothing(tmp_path):
    change = Change(
        row=2,
        key=f"upc={HOSTILE}",
        action="update",
        fields={"title": {"old": "<b>old</b>", "new": HOSTILE}},
        remote_id="r1",
        values={"title": HOSTILE},
    )
    conflict = Change(
        row=3,
        key="upc=2",
        action="conflict",
        conflicts={"label": {"old": "a", "sheet": HOSTILE, "remote": "c"}},
    )
    path = write_review_page(tmp_path / "hostile.html", _plan([change, conflict]))
    with open_page(path) as opened:
        page = opened.page
        assert page.locator("img").count() == 0 and page.locator("b").count() == 0
        assert page.locator("td.new.changed").inner_text() == HOSTILE
        assert page.locator("td.old.changed").inner_text() == "<b>old</b>"
        assert page.locator("td.sheet").inner_text() == HOSTILE
        assert page.locator("article[data-action=update] .key").inner_text() == f"upc={HOSTILE}"
        assert opened.dialogs == [] and opened.errors == []
        assert opened.requests == [path.resolve().as_uri()]  # the file itself, nothing else


def test_the_page_cannot_fetch_anything(tmp_path):
    """The CSP holds even for script that did run: an image and a fetch to a listening server are
    refused by the browser, and the server hears nothing."""
    heard: list[str] = []

    class Listener(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            heard.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    path = write_review_page(tmp_path / "p.html", _plan([Change(row=2, key="upc=1", action="create")]))
    with ThreadingHTTPServer(("127.0.0.1", 0), Listener) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with open_page(path) as opened:
            fetched = opened.page.evaluate(
                "async (url) => { const i = document.createElement('img'); i.src = url + '/x.png';"
                " document.body.appendChild(i); await new Promise(r => { i.onerror = r; i.onload = r; });"
                " try { await fetch(url + '/y'); return 'fetched'; } catch (e) { return 'refused'; } }",
                url,
            )
        server.shutdown()
    assert fetched == "refused"
    assert opened.failed == {f"{url}/x.png": "csp"}  # blocked by the Content-Security-Policy
    assert heard == []


def test_a_10000_row_plan_opens_and_its_filter_and_search_work(tmp_path):
    changes = [
        Change(
            row=n + 2,
            key=f"externalId=EXT-{n:05d}",
            action="update" if n % 2 else "create",
            fields={"title": {"old": f"Old {n}" if n % 2 else "", "new": f"Release {n}"}},
            values={"title": f"Release {n}"},
        )
        for n in range(10_000)
    ]
    path = write_review_page(tmp_path / "big.html", _plan(changes))
    with open_page(path) as opened:
        page = opened.page
        assert page.locator("#shown").inner_text() == "400 shown of 10,000; 9,600 more behind 'show more'"
        assert page.locator("article.row").count() == 400  # a page of 200 per group, the rest on demand
        assert page.locator("section[data-group=update] .count").inner_text() == "5000 of 5000"
        page.locator("section[data-group=update] button.more").click()
        assert page.locator("section[data-group=update] article.row").count() == 400
        assert page.locator("#shown").inner_text() == "600 shown of 10,000; 9,400 more behind 'show more'"
        page.locator("input[name=action][value=create]").uncheck()
        assert page.locator("#shown").inner_text() == (
            "200 shown of 10,000; 4,800 more behind 'show more'; 5,000 hidden by the filters or search"
        )
        assert page.locator("section[data-group=create]").is_hidden()
        page.locator("#search").fill("ext-09999")
        assert (
            page.locator("#shown").inner_text() == "1 shown of 10,000; 9,999 hidden by the filters or search"
        )
        assert page.locator("article.row").evaluate_all("rows => rows.map(r => r.dataset.key)") == [
            "externalId=EXT-09999"
        ]
        assert opened.requests == [path.resolve().as_uri()] and opened.errors == []


def test_the_summary_never_shows_a_credential_of_the_base_url(tmp_path):
    plan = _plan([Change(row=2, key="upc=1", action="create")])
    plan.base_url = "https://user:s3cret@api.example.com/v1?token=abc"
    page = review_page(plan)
    assert "s3cret" not in page and "token=abc" not in page
    assert re.search(r'"base_url":"https://api.example.com/v1"', page)


def _pulled_rows() -> list[Change]:
    """A pulled sheet's rows (keyed by id): a conflict, a create, an update, unchanged rows."""
    values = {"upc": "000040001883", "catalogNumber": "CAT-77", "title": "Found me"}
    return [
        Change(
            row=2, key="id=aaaa-1111", action="unchanged", values={"upc": "111111111111", "title": "Same"}
        ),
        Change(
            row=3,
            key="id=bbbb-2222",
            action="update",
            values=values,
            fields={"title": {"old": "Lost me", "new": "Found me"}},
        ),
        Change(
            row=4,
            key="upc=222222222222",
            action="create",
            fields={
                "title": {"old": "", "new": "New one"},
                "label": {"old": "", "new": ""},
                "upc": {"old": "", "new": "222222222222"},
            },
        ),
        Change(
            row=5,
            key="id=cccc-3333",
            action="conflict",
            reason="changed on both sides: take a side",
            conflicts={"title": {"old": "a", "sheet": "b", "remote": "c"}},
        ),
        Change(row=6, key="id=dddd-4444", action="unchanged", values={"upc": "333333333333"}),
    ]


def test_search_finds_a_row_by_any_of_its_values(tmp_path):
    path = write_review_page(tmp_path / "p.html", _plan(_pulled_rows()))
    with open_page(path) as opened:
        page = opened.page
        for needle in ("000040001883", "cat-77"):
            page.locator("#search").fill(needle)
            assert visible_keys(page) == ["id=bbbb-2222"], needle


def test_conflicts_come_first_and_unchanged_rows_are_hidden_until_asked_for(tmp_path):
    path = write_review_page(tmp_path / "p.html", _plan(_pulled_rows()))
    with open_page(path) as opened:
        page = opened.page
        groups = page.locator("section.group:visible").evaluate_all("s => s.map(x => x.dataset.group)")
        assert groups == ["conflict", "create", "update"]
        assert visible_keys(page)[0] == "id=cccc-3333"
        assert page.locator("#shown").inner_text() == "3 shown of 5; 2 hidden by the filters or search"
        page.locator("input[name=action][value=unchanged]").check()
        assert visible_keys(page)[-2:] == ["id=aaaa-1111", "id=dddd-4444"]
        assert page.locator("#shown").inner_text() == "5 shown of 5"


def test_a_create_shows_its_values_and_not_empty_to_value_lines(tmp_path):
    path = write_review_page(tmp_path / "p.html", _plan(_pulled_rows()))
    with open_page(path) as opened:
        create = opened.page.locator("article[data-action=create]")
        assert create.locator("table.changes").count() == 0 and create.locator("td.empty").count() == 0
        lines = create.locator("table.values tbody tr").evaluate_all(
            "rows => rows.map(r => r.innerText.replace(/\\s+/g, ' ').trim())"
        )
        assert lines == ["title New one", "upc 222222222222"]


class _Settled:
    """An apply's outcome of a conflict row (the executor gives it the plan's reason as its error)."""

    def __init__(self, change: Change) -> None:
        self.change, self.status = change, "conflict"
        self.remote_id: str | None = None
        self.error_code, self.error = "conflict", change.reason


def test_an_apply_page_gives_a_conflicts_reason_once(tmp_path):
    conflict = _pulled_rows()[3]
    path = write_review_page(tmp_path / "a.html", _plan([conflict]), [_Settled(conflict)])
    with open_page(path) as opened:
        text = opened.page.locator("article[data-action=conflict]").inner_text()
    assert text.count("changed on both sides: take a side") == 1
