"""Which writes a run's client lets through: only those its write gate sends.

A client made for a run (:meth:`~catalog_sync.run.target.Target.connect`) requires the gate: its
``create``, ``update``, ``delete`` and ``create_video`` refuse to send unless called inside
:func:`write_permit` for that client, which only :class:`~catalog_sync.execute.gate.WriteGate`
opens.  So every request that changes a provider's data passes one function, where the checks
that guard writes live.  A client made directly (a library user, a provider test) is ungated.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from catalog_sync.errors import UngatedWriteError

__all__ = ["WRITE_METHODS", "gated", "write_permit"]

#: The client methods that change what a provider holds.
WRITE_METHODS = ("create", "update", "delete", "create_video")

_held = threading.local()
F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def write_permit(client: object) -> Iterator[None]:
    """Let ``client``'s writes through, in this thread, while inside."""
    previous = getattr(_held, "client", None)
    _held.client = client
    try:
        yield
    finally:
        _held.client = previous


def gated(method: F) -> F:
    """``method`` refusing to send, on a client that requires the gate, outside its permit."""

    @functools.wraps(method)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "write_gate_required", False) and getattr(_held, "client", None) is not self:
            raise UngatedWriteError(
                f"{type(self).__name__}.{method.__name__} was called outside the write gate: nothing was sent "
                "(a bug in catalog-sync; please report it)"
            )
        return method(self, *args, **kwargs)

    return write  # type: ignore[return-value]
