"""The disk engine's problems live in a file: read back in order, counted as written, removed after."""

from __future__ import annotations

import gc

from catalog_sync.engine import settings
from catalog_sync.engine.spill import ProblemLog
from catalog_sync.problems import Problem
from catalog_sync.validation.result import ValidationReport


def _problems(n: int) -> list[Problem]:
    return [
        Problem(code="bad-format", message=f"m{i}", row=i + 2, severity="warning" if i % 3 else "error")
        for i in range(n)
    ]


def test_a_problem_log_reads_back_what_was_written_in_order_and_counts_severities(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(settings, "TEMP_DIR", str(tmp_path))
    written = _problems(25_001)  # more than two batches
    log = ProblemLog()
    log.extend(iter(written))
    log.close()
    assert len(log) == 25_001
    assert list(log) == written
    assert log[:3] == written[:3] and log[-1] == written[-1] and log[10_000] == written[10_000]
    report = ValidationReport(problems=log)
    assert report.count("error") == 8_334 and not report.valid
    assert report.summary() == "8334 errors, 16667 warnings"


def test_the_file_of_a_problem_log_goes_with_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "TEMP_DIR", str(tmp_path))
    log = ProblemLog()
    log.extend(_problems(10))
    log.close()
    assert list(tmp_path.iterdir())
    del log
    gc.collect()
    assert not list(tmp_path.iterdir())
