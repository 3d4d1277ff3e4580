"""Fixtures shared by every test area: headless LibreOffice conversion."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    assert found, "LibreOffice (soffice) is required: `make libreoffice` installs it"
    return found


@pytest.fixture
def convert(tmp_path: Path) -> Callable[..., Path]:
    """Convert a file with headless LibreOffice: convert(src, "xls") -> the new file."""

    def run(src: Path, target: str, *, infilter: str | None = None) -> Path:
        outdir = tmp_path / f"lo-out-{uuid.uuid4().hex[:8]}"
        profile = Path("/tmp") / f"lo-profile-{uuid.uuid4().hex}"
        cmd = [_soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore"]
        if infilter:
            cmd.append(f"--infilter={infilter}")
        cmd += ["--convert-to", target, "--outdir", str(outdir), str(src)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        ext = target.split(":", 1)[0]
        out = outdir / f"{src.stem}.{ext}"
        assert out.exists(), f"LibreOffice did not convert {src.name}: {done.stdout} {done.stderr}"
        return out

    return run
