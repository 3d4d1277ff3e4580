"""Fixtures for the sheet-reading tests: LibreOffice conversion and child-process measurement."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def load_in_child() -> Callable[..., dict]:
    """Run load_sheet(path, **kwargs) in a fresh interpreter; report the error, time and peak-RSS growth.

    A child process gives an honest memory number: ru_maxrss after the imports vs after the load.
    """

    def run(path: Path, **kwargs: object) -> dict:
        code = textwrap.dedent(
            f"""
            import json, resource, sys, time
            from catalog_sync.errors import CatalogSyncError
            from catalog_sync.sheets import load_sheet
            def peak_kb():  # this process's own peak: Linux keeps ru_maxrss across exec (the forking
                try:        # pytest worker's peak, 1.5 GB after a big test), VmHWM starts afresh
                    with open("/proc/self/status") as status:
                        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
                except (OSError, StopIteration):
                    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            before = peak_kb()
            started = time.perf_counter()
            result = {{}}
            try:
                sheet = load_sheet({str(path)!r}, **{kwargs!r})
                result["problems"] = [p.to_dict() for p in sheet.problems]
                result["shape"] = list(sheet.data.shape)
            except CatalogSyncError as exc:
                result["error"] = str(exc)
                result["exit_code"] = exc.exit_code
            result["seconds"] = time.perf_counter() - started
            result["rss_growth_mb"] = (peak_kb() - before) / 1024
            result["peak_rss_mb"] = peak_kb() / 1024
            print(json.dumps(result))
            """
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
