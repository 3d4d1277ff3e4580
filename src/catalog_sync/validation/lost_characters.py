"""Text a CSV export turned into ``?`` (``Caf? M?moires``, ``???? ????``).

Excel's plain "CSV" (and other exports saving as ANSI or ASCII) writes each character the code page
cannot hold as ``?``: the letters are gone from the file, and no encoding brings them back.  Sending
such a catalog would overwrite the provider's good text.  :func:`lost_characters` gives one
``lost-characters`` warning for the whole sheet naming the columns, when at least
:data:`MIN_CELLS` cells of a CSV hold a ``?`` where a letter was: between two letters, at the start
of a word before a letter, or two or more in a row (not one ending a word: ``Why?``).  Web addresses (``?id=3``) are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow.compute as pc

from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.values import arrow_text, may_hold

__all__ = ["MIN_CELLS", "LostCharacters", "lost_characters"]

#: Cells that must look damaged before the sheet is: one ``??`` may be a placeholder someone typed.
MIN_CELLS = 3
#: ``?`` where a letter was: inside a word (``M?moires``), starting one (``?cole``), or a run (``????``);
#: not the question mark ending a word (``Why? Because``).
_LOST = r"\pL\?\pL|(?:^|\s)\?\pL|\?\?"
_NOT_TEXT = ("url", "media")
_EXAMPLES = 3


def lost_characters(sheet: Sheet, spec: ProviderSpec) -> list[Problem]:
    """One warning when a CSV's text columns hold ``?`` where letters were (see the module's docs)."""
    if sheet.kinds is not None:  # a workbook keeps every character; only text exports lose them
        return []
    found = LostCharacters()
    found.add(sheet, spec)
    return found.problems(sheet)


@dataclass
class LostCharacters:
    """The cells holding ``?`` where letters were, counted per column over a whole sheet or chunk by
    chunk (rows in order), with each column's first few distinct damaged values."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, sheet: Sheet, spec: ProviderSpec) -> None:
        skipped = {f.name for f in spec.fields if f.type in _NOT_TEXT}
        for column in sheet.data.columns:
            if column in skipped:
                continue
            values = arrow_text(sheet.data[column])
            if not may_hold(values, among=b"?"):
                continue
            suspect = pc.and_(
                pc.match_substring(values, "?"),
                pc.invert(pc.match_substring(values, "://")),
            )
            if not pc.any(suspect).as_py():
                continue
            damaged = pc.filter(values, suspect)
            damaged = pc.filter(damaged, pc.match_substring_regex(damaged, _LOST))
            if len(damaged):
                name = str(column)
                self.counts[name] = self.counts.get(name, 0) + len(damaged)
                seen = self.examples.setdefault(name, [])
                for value in pc.unique(damaged).slice(0, _EXAMPLES).to_pylist():
                    if len(seen) >= _EXAMPLES:
                        break
                    if value not in seen:
                        seen.append(str(value))

    def problems(self, sheet: Sheet) -> list[Problem]:
        """The one warning, when at least :data:`MIN_CELLS` cells look damaged."""
        total = sum(self.counts.values())
        if total < MIN_CELLS:
            return []
        order = [c for c in sheet.data.columns if c in self.counts]
        counts = {str(c): self.counts[str(c)] for c in order}
        examples = [v for c in counts for v in self.examples[c]]
        return [_warning(sheet, counts, examples[:_EXAMPLES], total)]


def _warning(sheet: Sheet, counts: dict[str, int], examples: list[str], total: int) -> Problem:
    columns = ", ".join(f"{name} ({n:,})" for name, n in counts.items())
    shown = ", ".join(repr(v[:40]) for v in examples)
    return Problem(
        code="lost-characters",
        severity="warning",
        sheet=sheet.display_name,
        column=next(iter(counts)) if len(counts) == 1 else None,
        message=(
            f"{total:,} cells hold ? where letters were, in {columns} (e.g. {shown}): the file was probably "
            "saved as plain 'CSV' (ANSI/ASCII) by Excel, which writes ? for every character it cannot hold, "
            "and the letters are lost; save the catalog again as 'CSV UTF-8 (Comma delimited)' (or as .xlsx) "
            "from the original and use that file"
        ),
        extra={"columns": counts},
    )
