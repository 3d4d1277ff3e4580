"""Royalti's error body and its login → refresh → access-token flow, for the royalti emulator.

Errors: ``{"success": false, "error": {"code", "message", "details"}}``.  Tokens are real
HS256 JWTs signed with a throwaway secret kept in the sandbox state (so they survive a
restart on the same state file); ``typ`` says refresh or access, ``exp`` when they die.
``POST /auth/login`` is limited to ``login_limit`` calls per 3 minutes per client address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
import uuid
from typing import Any, cast

from catalog_sync.sandbox.base import Request, Response, SlidingWindow
from catalog_sync.sandbox.store import Store

__all__ = ["ERROR_CODES", "RoyaltiAuth", "err"]

ERROR_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def err(
    status: int,
    message: str,
    details: list[str] | None = None,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code or ERROR_CODES.get(status, "ERROR"), "message": message}
    if details is not None:
        error["details"] = details
    return Response.json(status, {"success": False, "error": error}, headers=headers)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class RoyaltiAuth:
    """One workspace's login, refresh and access tokens."""

    default_login = ("sandbox@royalti.test", "sandbox-password", "sandbox-workspace")

    def __init__(
        self,
        store: Store,
        *,
        email: str | None = None,
        password: str | None = None,
        workspace: str | None = None,
        access_ttl: float = 6 * 3600,
        refresh_ttl: float = 24 * 3600,
        login_limit: int = 20,
    ) -> None:
        d_email, d_password, d_workspace = self.default_login
        self.email, self.password = email or d_email, password or d_password
        self.workspace = workspace or d_workspace
        self.access_ttl, self.refresh_ttl = float(access_ttl), float(refresh_ttl)
        self.login_window = SlidingWindow(login_limit, 180.0)
        secret = store.get_meta("jwt_secret")
        if secret is None:
            secret = os.urandom(32).hex()
            store.set_meta("jwt_secret", secret)
        self._secret = bytes.fromhex(secret)

    def _sign(self, signing_input: str) -> str:
        return _b64url(hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest())

    def token(self, kind: str) -> str:
        """A new ``refresh`` or ``access`` JWT."""
        ttl = self.refresh_ttl if kind == "refresh" else self.access_ttl
        header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
        claims = {"sub": self.email, "workspaceId": self.workspace, "typ": kind, "iat": int(time.time()),
                  "exp": time.time() + ttl, "jti": uuid.uuid4().hex}  # fmt: skip
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._sign(f'{header}.{payload}')}"

    def claims(self, token: str, kind: str) -> dict[str, Any] | Response:
        """The token's claims, or the 401 the API gives for a bad, expired or wrong-kind token."""
        parts = token.split(".")
        if len(parts) != 3 or not token.isascii():
            return err(401, "Invalid token")
        if not hmac.compare_digest(self._sign(f"{parts[0]}.{parts[1]}").encode(), parts[2].encode()):
            return err(401, "Invalid token")
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (binascii.Error, ValueError):
            return err(401, "Invalid token")
        if time.time() >= float(claims.get("exp", 0)):
            message = "Token expired, please log in again" if kind == "refresh" else "Token expired"
            return err(401, message, code="TOKEN_EXPIRED")
        if claims.get("typ") != kind:
            return err(401, f"Invalid token type: {kind} token required")
        return cast(dict[str, Any], claims)

    def check_bearer(self, req: Request, api_key: str) -> Response | None:
        """None for the workspace API key or a live access token, else the 401."""
        token = req.bearer()
        if not token:
            return err(401, "Authentication required: send Authorization: Bearer <token>")
        if token == api_key:
            return None
        if token.startswith(("RWAK_", "RUAK_", "GODK_")):
            return err(401, "Invalid API key")
        claims = self.claims(token, "access")
        return claims if isinstance(claims, Response) else None

    def login(self, req: Request) -> Response:
        """``POST /auth/login {email, password}`` → workspaces + refresh token."""
        if self.login_window.hit(req.client) is not None:
            return err(429, "Too many login attempts, please try again later", headers={"Retry-After": "180"})
        body = req.json()
        if not isinstance(body, dict) or not body.get("email") or not body.get("password"):
            return err(400, "Validation failed", ["email is required", "password is required"])
        if body["email"] != self.email or body["password"] != self.password:
            return err(401, "Invalid email or password", code="INVALID_CREDENTIALS")
        workspace = {"workspaceId": self.workspace, "name": "Sandbox Workspace", "status": "active",
                     "userType": "owner", "role": "admin"}  # fmt: skip
        return Response.json(
            200, {"message": "Successful", "workspaces": [workspace], "refresh_token": self.token("refresh")}
        )

    def authtoken(self, req: Request) -> Response:
        """``GET /auth/authtoken?currentWorkspace=`` with the refresh token → access token."""
        token = req.bearer()
        if not token:
            return err(401, "Authentication required: send the refresh token as Bearer")
        claims = self.claims(token, "refresh")
        if isinstance(claims, Response):
            return claims
        workspace = req.query.get("currentWorkspace")
        if not workspace:
            return err(400, "Validation failed", ["currentWorkspace is required"])
        if workspace != self.workspace:
            return err(403, "You do not have access to this workspace")
        return Response.json(200, {"status": "success", "message": "Access token generated for Sandbox Workspace",
                                   "data": {"access_token": self.token("access")}})  # fmt: skip
