"""Run one command as a whole child process: wall seconds, peak RSS, exit code, output.

Peak RSS is the child's own ``ru_maxrss`` from ``os.wait4``.  On Linux a child's high-water
mark starts at what the process that forked it held (the mark of the pre-``exec`` memory
is kept), so a child forked straight from this harness (which holds catalogs and sandboxes)
would report the harness's size.  Each command is therefore started by a tiny launcher
(``python -I -S``, a few MB) that forks it, waits for it and writes its seconds, peak RSS and
exit code to a file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: The repository root: children run here so ``python -m bench...`` and relative paths work.
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ProcessRun:
    """What one child process took."""

    command: tuple[str, ...]
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    #: user + system CPU seconds of the child and its children (a shared machine's load moves the
    #: wall seconds, much less these)
    cpu_seconds: float = float("nan")

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def to_dict(self) -> dict[str, float | int | bool]:
        return {
            "seconds": round(self.seconds, 4),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "returncode": self.returncode,
            "timed_out": self.timed_out,
            "cpu_s": round(self.cpu_seconds, 3),
        }


_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as f:
    json.dump({"seconds": seconds, "maxrss": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime,
               "code": os.waitstatus_to_exitcode(status)}, f)
"""


def run_process(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cwd: Path = ROOT,
) -> ProcessRun:
    """Run ``command`` to its end (killed after ``timeout`` seconds) and measure it."""
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        folder = Path(tmp)
        figures = folder / "figures.json"
        with (folder / "out").open("w+b") as out, (folder / "err").open("w+b") as err:
            launcher = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(figures), *command],
                stdout=out,
                stderr=err,
                env=full_env,
                cwd=cwd,
                start_new_session=True,  # the timeout kills the launcher and the command together
            )
            try:
                launcher.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
                timed_out = True
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        measured = json.loads(figures.read_text(encoding="utf-8")) if figures.exists() else {}
    code: int | None = measured.get("code", launcher.returncode)  # no file: the launcher broke
    return ProcessRun(
        command=tuple(command),
        seconds=float(measured.get("seconds", float("nan"))),
        peak_rss_mb=_rss_mb(int(measured.get("maxrss", 0))),
        returncode=-1 if code is None else int(code),
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        cpu_seconds=float(measured.get("cpu", float("nan"))),
    )


def _rss_mb(maxrss: int) -> float:
    """``ru_maxrss`` is KiB on Linux, bytes on macOS."""
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def compile_sources() -> None:
    """Byte-compile catalog_sync once, as installing a wheel does.  Where PYTHONDONTWRITEBYTECODE is
    set (some sandboxes set it), every child would otherwise compile the package from source again:
    ~0.5 s of CPU of each apply, which no installed copy pays."""
    import compileall

    import catalog_sync

    compileall.compile_dir(str(Path(catalog_sync.__file__).parent), quiet=1)


def python(*args: str) -> list[str]:
    """A command line running this interpreter."""
    return [sys.executable, *args]


def catalog_sync(*args: str) -> list[str]:
    """A command line running the ``catalog-sync`` CLI of this interpreter."""
    return python("-m", "catalog_sync", *args)


def best_of(repeats: int, command: Sequence[str], **kwargs: object) -> ProcessRun:
    """The fastest of ``repeats`` runs of ``command`` (for short processes such as ``--help``)."""
    runs = [run_process(command, **kwargs) for _ in range(max(1, repeats))]  # type: ignore[arg-type]
    return min(runs, key=lambda r: r.seconds)
