"""A reader that stops early (``catalog-sync options -p jogg voices | head -1``) ends the command
quietly with exit 0 (issue 18 item 5): a JoggAI account lists hundreds of voices, more than a pipe
holds, and the command printed "Error: unexpected BrokenPipeError" and exited 1."""

from __future__ import annotations

import os
import subprocess
import sys

from catalog_sync.providers.jogg import emulator
from tests.support.videos import env_for, jogg


def test_piped_options_into_a_reader_that_stops_after_one_line_ends_quietly(monkeypatch, tmp_path):
    many = [{**emulator.VOICES[0], "voice_id": f"en-US-Voice{i:05d}Neural"} for i in range(4000)]
    monkeypatch.setattr(emulator, "VOICES", many)  # far more lines than a pipe holds
    with jogg() as sb:
        env = {**os.environ, **env_for(sb)}
        command = [sys.executable, "-m", "catalog_sync", "options", "-p", "jogg", "voices"]
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path
        )
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()  # what `head -1` reads, then it goes away
        proc.stdout.close()
        errors = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert first.startswith(b"voice_id\t")
    assert "BrokenPipe" not in errors and "Traceback" not in errors and "Error" not in errors, errors
    assert code == 0
