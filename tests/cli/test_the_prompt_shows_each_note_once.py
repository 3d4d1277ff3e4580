"""At the apply prompt each note of the plan is shown once (found in the trial: the JoggAI state
database note printed twice, once with the plan above the question and again as the run began).
The prompt runs on a real terminal (a pseudo-terminal), answered as a person would."""

from __future__ import annotations

import csv
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.support.videos import env_for, jogg

NOTE = "this state database is new"


def _read_until(fd: int, text: bytes, seen: bytearray) -> None:
    """Read the terminal until ``text`` appears (or it closes)."""
    while text not in seen:
        ready, _, _ = select.select([fd], [], [], 120)
        if not ready:
            raise AssertionError(f"{text!r} never came: {bytes(seen)[-2000:]!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other end closed
            return
        if not chunk:
            return
        seen += chunk


def test_the_new_state_note_is_shown_once_at_the_prompt(tmp_path: Path) -> None:
    catalog = tmp_path / "products.csv"
    with catalog.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["product_id", "url", "name", "description", "target_audience"])
        for i in range(2):
            writer.writerow(["", f"https://shop.example.com/p/{i}", f"Item {i}", "A thing", "everyone"])
    with jogg() as sb:
        env = {**os.environ, **env_for(sb), "COLUMNS": "200", "TERM": "dumb"}
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "jogg"]
        command += ["--state", str(tmp_path / "s.db"), "--rate", "1000"]
        main, other = pty.openpty()
        proc = subprocess.Popen(command, env=env, stdin=other, stdout=other, stderr=other, close_fds=True)
        os.close(other)
        seen = bytearray()
        try:
            _read_until(main, b"Apply 2 write(s)", seen)
            os.write(main, b"y\n")
            _read_until(main, b"Report:", seen)
            _read_until(main, b"\n", seen)
        finally:
            assert proc.wait(timeout=120) == 0, bytes(seen).decode(errors="replace")
            os.close(main)
    text = bytes(seen).decode(errors="replace").replace("\r", "")
    assert text.count(NOTE) == 1, text
