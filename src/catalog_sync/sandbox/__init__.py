"""Faithful local emulators of the providers' product APIs, with fault injection.

    from catalog_sync.sandbox import Sandbox, FaultConfig
    with Sandbox("keevault", faults=FaultConfig(error_rate=0.1), seed=1) as sb:
        ...  # sb.url is the client's base URL

See ``server.py`` for the admin endpoints and ``faults.py`` for the knobs.
"""

from __future__ import annotations

from catalog_sync.sandbox.app import Sandbox
from catalog_sync.sandbox.base import Emulator, Request, Response, Route
from catalog_sync.sandbox.faults import FaultConfig
from catalog_sync.sandbox.registry import EMULATORS

__all__ = ["EMULATORS", "Emulator", "FaultConfig", "Request", "Response", "Route", "Sandbox"]
