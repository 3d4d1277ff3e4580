"""Builders for the video tests: a JoggAI sandbox over real HTTP, video sheets, a clock tests move on."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from catalog_sync.run import Target
from catalog_sync.sandbox import FaultConfig, Sandbox
from catalog_sync.spec import load_spec

KEY = "jg-video-secret-4d7e21"
COLUMNS = load_spec("jogg-videos").field_names
CREATE = "POST /v2/create_video_from_product"


@contextmanager
def jogg(faults: FaultConfig | None = None, **options: Any) -> Iterator[Sandbox]:
    """A JoggAI sandbox on 127.0.0.1: no POST limit, videos finished at once unless told otherwise."""
    options.setdefault("post_limit", 0)
    options.setdefault("video_seconds", 0)
    with Sandbox("jogg", api_key=KEY, faults=faults, seed=3, env={}, **options) as sb:
        yield sb


def env_for(sb: Sandbox) -> dict[str, str]:
    return {"JOGG_API_KEY": KEY, "JOGG_BASE_URL": sb.url}


def target(sb: Sandbox, folder: Path) -> Target:
    return Target("jogg", sb.url, folder / "state.db", rate=1000, env=env_for(sb))


def make_products(sb: Sandbox, n: int) -> list[str]:
    """``n`` products created straight through the sandbox's API: their ids."""
    ids = []
    with requests.Session() as http:
        for i in range(n):
            r = http.post(f"{sb.url}/v2/product", json={"name": f"Product {i}"}, headers={"x-api-key": KEY})
            ids.append(r.json()["data"]["product_id"])
    return ids


def video_row(**values: str) -> dict[str, str]:
    """A valid video sheet row (every column; ``values`` override)."""
    row = {c: "" for c in COLUMNS}
    row.update(
        avatar_id="81",
        avatar_type="0",
        voice_id="en-US-ChristopherNeural",
        music_id="13",
        aspect_ratio="portrait",
        length="30",
        caption="true",
        script_style="Storytime",
        language="english",
    )
    row.update(values)
    return row


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def creates(sb: Sandbox) -> int:
    """Video creates the sandbox received."""
    return int(sb.stats()["requests"].get(CREATE, 0))


class FakeTime:
    """A clock that only moves when slept on; each sleep also moves the sandbox's clock on."""

    def __init__(self, sb: Sandbox | None = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.sb = sb

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
        if self.sb is not None:
            self.sb.emulator.advance_clock(seconds)  # type: ignore[attr-defined]
