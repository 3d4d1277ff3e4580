"""Royalti.io authentication: a workspace/user API key, or the JWT login → refresh → access flow.

``RWAK_…`` / ``RUAK_…`` keys are sent as ``Authorization: Bearer`` and never expire.  With
email + password + workspace the client logs in (``POST /auth/login`` → refresh token, 1 day),
trades the refresh token for an access token (``GET /auth/authtoken?currentWorkspace=`` →
6 h) and renews it shortly before it expires (the expiry is read from the JWT's ``exp``
without verifying it: the server checks it, we only plan ahead).  When the refresh token
itself is about to expire, or is refused, it logs in again.  One lock serialises renewals,
so many worker threads share one token.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from catalog_sync.config.credentials import register_secret
from catalog_sync.errors import FatalProviderError

if TYPE_CHECKING:
    from catalog_sync.providers.base import Provider

__all__ = ["TokenManager", "jwt_times"]


def jwt_times(token: str) -> tuple[float | None, float | None]:
    """``(iat, exp)`` of a JWT, read without verifying it; ``(None, None)`` when unreadable."""
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, TypeError):
        return None, None
    if not isinstance(claims, dict):
        return None, None
    iat, exp = claims.get("iat"), claims.get("exp")
    return (
        float(iat) if isinstance(iat, int | float) else None,
        float(exp) if isinstance(exp, int | float) else None,
    )


class _Token:
    def __init__(self, value: str, default_lifetime: float, clock: Callable[[], float]) -> None:
        now = clock()
        iat, exp = jwt_times(value)
        self.value = value
        self.expires = exp if exp is not None else now + default_lifetime
        lifetime = max(1.0, self.expires - (iat if iat is not None else now))
        self.renew_at = self.expires - min(300.0, lifetime * 0.1)  # ~5 min early, less for short tokens
        register_secret(value)

    def fresh(self, now: float) -> bool:
        return now < self.renew_at


class TokenManager:
    """Thread-safe access-token source for the JWT flow."""

    ACCESS_LIFETIME = 6 * 3600.0
    REFRESH_LIFETIME = 24 * 3600.0

    def __init__(
        self,
        provider: Provider,
        email: str,
        password: str,
        workspace: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self._email, self._password, self.workspace = email, password, workspace
        self._clock = clock
        self._lock = threading.RLock()
        self._refresh: _Token | None = None
        self._access: _Token | None = None
        self.logins = 0
        self.refreshes = 0

    def secrets(self) -> list[str]:
        return [t.value for t in (self._refresh, self._access) if t is not None] + [self._password]

    def access_token(self) -> str:
        """A valid access token, renewing or logging in first when needed."""
        with self._lock:
            now = self._clock()
            if self._access is not None and self._access.fresh(now):
                return self._access.value
            if self._refresh is None or not self._refresh.fresh(now):
                self._login()
            try:
                self._trade()
            except FatalProviderError as exc:
                if exc.status not in (401, 403):
                    raise
                self._login()  # the refresh token was refused: start over once
                self._trade()
            assert self._access is not None
            return self._access.value

    def invalidate(self, refused: str | None = None) -> None:
        """Forget the access token (after a 401) so the next call renews it.

        With ``refused`` (the token the 401 answered), only that token is forgotten: when
        many threads see the 401 of one revoked token, the first renews it and the others
        reuse the new one instead of each renewing again.
        """
        with self._lock:
            if refused is None or (self._access is not None and self._access.value == refused):
                self._access = None

    def _login(self) -> None:
        body = self.provider.request(
            "POST",
            "/auth/login",
            json={"email": self._email, "password": self._password},
            idempotent=True,
            auth=False,
        )
        token = _find(body, "refresh_token", "refreshToken")
        if not token:
            raise FatalProviderError(
                "Royalti POST /auth/login: no refresh_token in the answer", code="contract"
            )
        self.logins += 1
        self._refresh = _Token(token, self.REFRESH_LIFETIME, self._clock)
        self._access = None

    def _trade(self) -> None:
        assert self._refresh is not None
        body = self.provider.request(
            "GET",
            "/auth/authtoken",
            params={"currentWorkspace": self.workspace},
            headers={"Authorization": f"Bearer {self._refresh.value}"},
            auth=False,
        )
        token = _find(body, "access_token", "accessToken")
        if not token:
            raise FatalProviderError(
                "Royalti GET /auth/authtoken: no access_token in the answer", code="contract"
            )
        self.refreshes += 1
        self._access = _Token(token, self.ACCESS_LIFETIME, self._clock)


def _find(body: Any, *names: str) -> str | None:
    """A token under ``body`` or ``body["data"]``."""
    for holder in (body, body.get("data") if isinstance(body, dict) else None):
        if isinstance(holder, dict):
            for name in names:
                if isinstance(holder.get(name), str) and holder[name]:
                    return cast(str | None, holder[name])
    return None
