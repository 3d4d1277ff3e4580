"""Text from outside (provider answers, a state database someone edited) made safe to show.

A provider's error message, code or id may carry terminal control sequences: ANSI/OSC
escapes can recolour or retitle a terminal, hide text, or write hyperlinks, and a bare CR
can overwrite what a line said.  :func:`safe_text` replaces every control character (C0,
DEL, C1) and the Unicode bidirectional overrides with a visible ``\\xNN`` / ``\\u202e``
escape, so nothing is hidden and nothing is executed.  Line breaks and tabs are escaped too
unless ``keep_newlines`` (multi-line messages shown as such).

:func:`shorten_middle` fits a long key into a terminal column by cutting its middle: keys that
share a long start (``url=https://shop.example.com/products/…``) differ at their end.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["KEY_WIDTH", "has_control", "safe_text", "shorten_middle"]

#: C0 controls, DEL, C1 controls, and the bidi embeddings/overrides/isolates (Trojan Source).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(value: Any, *, keep_newlines: bool = False) -> str:
    """``value`` as text with control characters shown as escapes (``\\x1b``), never interpreted."""
    text = "" if value is None else str(value)
    pattern = _CONTROL_BUT_NEWLINES if keep_newlines else _CONTROL
    return pattern.sub(_escape, text)


def has_control(value: Any) -> bool:
    """True when ``value`` holds a character :func:`safe_text` would escape."""
    return bool(_CONTROL.search("" if value is None else str(value)))


#: The width a key is shortened to in terminal tables (plan, runs).
KEY_WIDTH = 32


def shorten_middle(text: str, width: int = KEY_WIDTH) -> str:
    """``text`` of at most ``width`` characters: its start and its end with ``…`` between
    (``url=https://shop.e…/products/item-199``); the end, where similar keys differ, gets more."""
    if len(text) <= width:
        return text
    head = max(1, (width - 1) * 2 // 5)
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]
