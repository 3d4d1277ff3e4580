"""`make bench` works: the harness in its smallest mode writes every figure's keys (nothing is timed here)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = (
    "validate",
    "validate-10m",
    "plan",
    "plan-fast",
    "plan-saved",
    "plan-10m",
    "xlsx",
    "apply",
    "pacing",
    "help",
)
SMALLEST = [sys.executable, "-m", "bench", "--rows", "200", "--help-repeats", "1"]
CHECK_KEYS = {"name", "ours", "anchor", "value", "unit", "target", "met"}


@pytest.mark.slow
def test_the_smallest_bench_run_writes_every_figure_with_its_checks(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [*SMALLEST, "--out", str(out), "--workdir", str(tmp_path / "work")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert set(results["figures"]) == set(FIGURES)
    for name, figure in results["figures"].items():
        assert figure["status"] in ("measured", "refused", "unavailable"), (name, figure["note"])
        assert figure["checks"], name
        for check in figure["checks"]:
            assert set(check) == CHECK_KEYS, (name, check)
            assert check["target"], (name, check)
    # what every figure needs measured, at 200 rows on today's code
    validate = results["figures"]["validate"]
    assert validate["status"] == "measured" and validate["measurements"]["ours"]["returncode"] == 0
    assert validate["checks"][0]["value"] > 0  # ours ÷ the pyarrow parse floor
    plan = results["figures"]["plan"]["measurements"]
    assert (plan["source"], plan["records"], plan["changed"]) == ("bench.remote.bench_plan_read", 200, 2)
    fast = results["figures"]["plan-fast"]["measurements"]
    assert (fast["source"], fast["records"], fast["changed"]) == ("bench.remote.bench_plan_fast", 200, 2)
    assert fast["plan_cpu_s"] > 0 and fast["plain_read_s"] > 0
    apply = results["figures"]["apply"]["measurements"]
    assert apply["updates"] == 20 and apply["ours_per_s"] > 0 and apply["plain_per_s"] > 0
    big_plan = results["figures"]["plan-10m"]
    assert big_plan["status"] == "measured" and big_plan["measurements"]["ours"]["returncode"] == 0
    assert big_plan["measurements"]["plan_file_bytes"] > 0  # --rows 200: 400 rows out of core (0.0 MB)
    assert results["figures"]["pacing"]["measurements"]["requests"] > 20  # the listing and 20 writes
    assert set(results["figures"]["help"]["measurements"]["seconds"]) >= {"top level", "validate", "apply"}
    machine = results["machine"]
    assert {"cpu", "cores", "ram_gb", "python", "versions"} <= set(machine)
    assert machine["versions"]["pyarrow"] and machine["cores"] >= 1
    assert "validate 200 rows" in done.stdout  # the table is printed too


def test_only_runs_the_named_figure_and_unknown_names_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    base = [sys.executable, "-m", "bench", "--help-repeats", "1", "--out", str(out)]
    done = subprocess.run([*base, "--only", "help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(json.loads(out.read_text(encoding="utf-8"))["figures"]) == ["help"]
    refused = subprocess.run([*base, "--only", "nope"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "unknown figure nope" in refused.stderr


def test_the_frictionless_schema_carries_our_royalti_rules() -> None:
    from bench.tableschema import not_expressible, table_schema

    from catalog_sync.spec import load_spec

    spec = load_spec("royalti")
    columns = ["upc", "title", "type", "format", "releaseDate", "c_line_year", "reissue", "extra"]
    fields = {f["name"]: f for f in table_schema(spec, columns)["fields"]}
    assert list(fields) == columns  # the file's order, unknown columns as plain text
    assert fields["upc"]["constraints"] == {"unique": True, "pattern": "[0-9]{12}"}
    assert fields["title"]["constraints"] == {"required": True, "minLength": 1, "maxLength": 255}
    assert fields["type"]["constraints"]["pattern"] == "(?i:Audio|Video|Ringtone)"  # case-insensitive enum
    assert fields["releaseDate"]["type"] == "date"
    assert fields["c_line_year"] == {
        "name": "c_line_year",
        "type": "integer",
        "constraints": {"minimum": 1900, "maximum": 2100},
    }
    assert "WAHR" in fields["reissue"]["trueValues"] and "false" in fields["reissue"]["falseValues"]
    assert fields["extra"] == {"name": "extra", "type": "string"}
    assert not_expressible(spec, columns) == ["upc: GS1 check digit"]


def test_a_childs_peak_rss_is_its_own() -> None:
    """Not the harness's: a child forked from a big process would start from its high-water mark."""
    from bench.measure import python, run_process

    held = bytearray(400 * 1024 * 1024)
    held[::4096] = b"x" * len(held[::4096])  # this process now holds 400 MB more
    big = run_process(python("-c", "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"))
    small = run_process(python("-c", "pass"))
    del held
    assert big.ok and small.ok
    assert big.peak_rss_mb >= 300 > 100 > small.peak_rss_mb
    failed = run_process(python("-c", "import sys; print('out'); sys.exit(3)"))
    assert (failed.returncode, failed.stdout.strip(), failed.ok) == (3, "out", False)


def test_bench_remote_answers_are_read_into_the_figures_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The remote figures call bench/remote.py's functions (with its own argument names)."""
    from bench import figures, remote
    from bench.sizes import Sizes

    calls: dict[str, dict[str, object]] = {}

    def answer(name: str, result: dict[str, object]) -> Callable[..., dict[str, object]]:
        def fn(**kwargs: object) -> dict[str, object]:
            calls[name] = kwargs
            return result

        return fn

    monkeypatch.setattr(
        remote,
        "bench_plan_read",
        answer("plan", {"records": 300, "plain_read_s": 2.0, "plan_process_s": 2.5}),
    )
    monkeypatch.setattr(
        remote,
        "bench_apply_capacity",
        answer(
            "apply", {"plain_rows_per_s": 100.0, "apply_process_rows_per_s": 80.0, "apply_rows_per_s": 90.0}
        ),
    )
    monkeypatch.setattr(
        remote,
        "bench_paced_apply",
        answer(
            "pacing",
            {
                "share_of_limit": 0.95,
                "share_429": 0.01,
                "writes_per_s": 19.0,
                "requests_per_s": 38.0,
                "answered_429": 4,
            },
        ),
    )
    sizes = Sizes(plan_rows=300, updates=30, rps=40, pacing_updates=50)
    plan, apply, pacing = (figures.FIGURES[n](sizes, tmp_path) for n in ("plan", "apply", "pacing"))
    assert calls == {
        "plan": {"records": 300},
        "apply": {"updates": 30, "latency_ms": 50.0, "clients": 8},
        "pacing": {"limit_rps": 40, "updates": 50},
    }
    assert plan.measurements["source"] == "bench.remote.bench_plan_read"
    assert [c.value for c in plan.checks] == [1.25]
    assert [c.value for c in apply.checks] == [0.8, 0.9]
    assert [c.value for c in pacing.checks] == [0.95, 0.01]
    assert pacing.checks[0].ours == "38.0 req/s"  # requests, not writes: an update is a re-read and a write
    assert [c.target.met(c.value) for c in (*plan.checks, *apply.checks, *pacing.checks)] == [
        True,
        False,
        True,
        True,
        True,
    ]
