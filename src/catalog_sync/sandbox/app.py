"""``Sandbox``: run one provider emulator on a real local port (background thread).

    with Sandbox("royalti", api_key="RWAK_test", faults=FaultConfig(error_rate=0.1), seed=1) as sb:
        requests.get(f"{sb.url}/product", headers={"Authorization": "Bearer RWAK_test"})
        sb.set_faults(error_rate=0)
        sb.state(); sb.stats()

Credentials default to the env vars the client reads (JOGG_API_KEY, KEEVAULT_API_KEY,
ROYALTI_API_KEY / ROYALTI_EMAIL + ROYALTI_PASSWORD + ROYALTI_WORKSPACE), else the documented
sandbox defaults (``sandbox-jogg-key``, ``sandbox-keevault-key``, ``RWAK_sandbox``; royalti
login ``sandbox@royalti.test`` / ``sandbox-password`` / workspace ``sandbox-workspace``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catalog_sync.providers.registry import PROVIDERS
from catalog_sync.sandbox.base import Emulator
from catalog_sync.sandbox.faults import FaultConfig, FaultInjector
from catalog_sync.sandbox.registry import EMULATORS
from catalog_sync.sandbox.server import SandboxServer
from catalog_sync.sandbox.store import Store

__all__ = ["Sandbox"]

_ENV = {name: info.key_variable for name, info in PROVIDERS.items()}
_ROYALTI_LOGIN_ENV = {
    "email": "ROYALTI_EMAIL",
    "password": "ROYALTI_PASSWORD",
    "workspace": "ROYALTI_WORKSPACE",
}


class Sandbox:
    """A running provider emulator; a context manager (``start``/``stop`` also work)."""

    def __init__(
        self,
        provider: str,
        *,
        api_key: str | None = None,
        email: str | None = None,
        password: str | None = None,
        workspace: str | None = None,
        faults: FaultConfig | None = None,
        seed: int | None = None,
        state_path: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        if provider not in EMULATORS:
            raise ValueError(f"unknown sandbox provider {provider!r}; choose from {', '.join(EMULATORS)}")
        env = os.environ if env is None else env
        self.provider = provider
        key_env = _ENV.get(provider)
        self.api_key_source = (
            "argument" if api_key else ("env" if key_env and env.get(key_env) else "default")
        )
        api_key = api_key or (env.get(key_env) if key_env else None) or None
        self.login_source: str | None = None
        if provider == "royalti":
            self.login_source = "argument" if email else ("env" if env.get("ROYALTI_EMAIL") else "default")
            given = {"email": email, "password": password, "workspace": workspace}
            for name, var in _ROYALTI_LOGIN_ENV.items():
                options[name] = given[name] or env.get(var) or None
        self.store = Store(state_path, provider=provider)
        self.emulator: Emulator = EMULATORS[provider](self.store, api_key=api_key, seed=seed, **options)
        self.injector = FaultInjector(faults or FaultConfig(), seed)
        self._address = (host, int(port))
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        if self._stopped:
            raise RuntimeError("a stopped Sandbox cannot be restarted; make a new one (same state_path)")
        self._server = SandboxServer(self._address, self.emulator, self.injector)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sandbox-{self.provider}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopped = True
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # facts ------------------------------------------------------------------------------------
    @property
    def server(self) -> SandboxServer:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager or call start()")
        return self._server

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        """The client's base URL (jogg paths /v2/..., keevault /api/v1/..., royalti /product)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.emulator.api_key

    @property
    def public_key_pem(self) -> str | None:
        return self.emulator.public_key_pem()

    @property
    def faults(self) -> FaultConfig:
        return self.injector.config

    # same as the admin endpoints ---------------------------------------------------------------
    def set_faults(self, **changes: Any) -> FaultConfig:
        """Change fault knobs while running (same as ``POST /_sandbox/faults``)."""
        return self.injector.set(changes)

    def state(self) -> dict[str, Any]:
        """Same as ``GET /_sandbox/state``."""
        with self.emulator.lock:
            return {"provider": self.provider, **self.emulator.state()}

    def stats(self) -> dict[str, Any]:
        """Same as ``GET /_sandbox/stats``."""
        return self.server.stats.snapshot()

    def reset_stats(self) -> None:
        self.server.stats.reset()
