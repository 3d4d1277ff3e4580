"""What a pulled sheet holds, as every pulled-sheet writer (csv, xlsx, ods) takes it."""

from __future__ import annotations

from dataclasses import dataclass

from catalog_sync.spec import ProviderSpec

__all__ = ["Pulled"]


@dataclass(frozen=True)
class Pulled:
    """What a pulled sheet holds: the columns, one row per record, and the base's header."""

    spec: ProviderSpec
    columns: list[str]
    rows: list[list[str]]
    meta: list[tuple[str, str]]  # (name, value) lines at the top of the base sheet

    def base_rows(self) -> list[list[str]]:
        """The hidden base sheet: its header lines, a blank line, then remote id + pulled values."""
        lines = [[name, value] for name, value in self.meta]
        return [*lines, [], ["remote_id", *self.columns], *([row[self.id_index], *row] for row in self.rows)]

    @property
    def id_index(self) -> int:
        return self.columns.index(self.spec.remote_id)
