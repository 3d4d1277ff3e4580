"""``make demo`` finds the repository's samples wherever its module lives."""

from __future__ import annotations

from catalog_sync.cli import demo
from catalog_sync.providers.registry import NAMES


def test_the_demo_reads_each_providers_sample_catalog() -> None:
    assert sorted(demo.PROVIDERS) == sorted(NAMES)
    for provider in demo.PROVIDERS:
        assert (demo.SAMPLES / provider / "catalog.csv").is_file(), demo.SAMPLES
