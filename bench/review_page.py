"""How quickly the page to review is written, opened and filtered (issue 18 item 1): a measurement,
not a test.  ``.venv/bin/python -m bench.review_page [ROWS]`` (needs Debian's chromium, as the tests).

Prints: seconds to write the page, its size, and in headless Chromium the milliseconds from
navigation to the rows shown, of a filter change (one action unchecked) and of a search.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from catalog_sync.planning.model import Change, Plan
from catalog_sync.planning.review_page import write_review_page


def big_plan(rows: int) -> Plan:
    actions = ("update", "create", "update", "unchanged", "conflict")
    changes = []
    for n in range(rows):
        action = actions[n % len(actions)]
        change = Change(
            row=n + 2, key=f"externalId=EXT-{n:06d}", action=action, values={"title": f"Release {n}"}
        )
        if action in ("update", "create"):
            change.fields = {
                "title": {"old": "" if action == "create" else f"Old {n}", "new": f"Release {n}"},
                "label": {"old": "" if action == "create" else "Label A", "new": "Label B"},
            }
        if action == "conflict":
            change.conflicts = {"title": {"old": f"Old {n}", "sheet": f"Sheet {n}", "remote": f"Remote {n}"}}
        changes.append(change)
    return Plan(provider="royalti", catalog="big.csv", base_url="http://127.0.0.1:9", changes=changes)


def measure(rows: int) -> dict[str, object]:
    from tests.support.browser import open_page

    folder = Path(tempfile.mkdtemp(prefix="review-bench-"))
    plan = big_plan(rows)
    start = time.perf_counter()
    path = write_review_page(folder / "review.html", plan)
    written = time.perf_counter() - start
    with open_page(path) as opened:
        page = opened.page
        loaded = page.evaluate("() => performance.now()")  # ready: the rows are shown
        filtered = page.evaluate(
            "() => { const t = performance.now(); const box = document.querySelector('input[value=update]');"
            " box.click(); return performance.now() - t; }"
        )
        searched = page.evaluate(
            "() => { const t = performance.now(); const s = document.getElementById('search');"
            " s.value = 'ext-0099'; s.dispatchEvent(new Event('input')); return performance.now() - t; }"
        )
        shown = page.locator("#shown").inner_text()
    return {
        "rows": rows,
        "write_s": round(written, 3),
        "size_mb": round(path.stat().st_size / 1e6, 2),
        "load_ms": round(loaded),
        "filter_ms": round(filtered, 1),
        "search_ms": round(searched, 1),
        "after_search": shown,
    }


if __name__ == "__main__":
    for count in [int(a) for a in sys.argv[1:]] or [10_000, 100_000]:
        print(measure(count))
