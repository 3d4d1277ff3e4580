"""How to read a catalog: what ``--sheet``, ``--mapping``, ``--schema``, ``--encoding``,
``--delimiter`` and ``--date-format`` said, as one value the CLI, cron jobs and the library pass along.

Light on purpose: ``--help`` builds its options from this module before anything heavy is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ReadOptions"]


@dataclass(frozen=True)
class ReadOptions:
    """How to read a catalog (one bundle, spelled once for validate, plan, apply, run and videos)."""

    sheet: str | None = None
    mapping: str | None = None
    #: the user's ``--schema`` files, tightening the provider's schema
    house_rules: tuple[str, ...] = field(default=())
    encoding: str | None = None
    delimiter: str | None = None
    #: ``--date-format``: dates written the local way (``MM/DD/YYYY``, …) are read as ISO dates
    date_format: str | None = None

    def sheet_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~catalog_sync.sheets.load_sheet` (everything but the house rules)."""
        return {
            "sheet": self.sheet,
            "mapping": self.mapping,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~catalog_sync.validation.validate_catalog`."""
        return {**self.sheet_kwargs(), "house_rules": self.house_rules, "date_format": self.date_format}

    def house_rule_paths(self) -> tuple[Path, ...]:
        return tuple(Path(p) for p in self.house_rules)
