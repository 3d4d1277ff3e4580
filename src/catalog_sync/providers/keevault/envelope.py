"""Keevault (GetKeyManager v1) signed answer envelopes: make them and check them.

Every Keevault v1 answer is an envelope::

    {"response": {...}, "response_base64": "<base64 of the compact JSON of response>",
     "private_key_used": "global" | "product", "signature": "<base64 RSA signature>"}

The signature is RSA PKCS#1 v1.5 with SHA-256 over the ASCII bytes of the
``response_base64`` string exactly as sent (PROVIDERS.md 1.6, verified against the documented
examples).  ``response_base64`` decodes to PHP ``json_encode`` output: compact, ASCII only,
``/`` escaped as ``\\/``, keys in the server's order, ``timestamp`` last.

Only the decoded ``response_base64`` is trusted; the plain ``response`` next to it is for
display and is never read by :func:`verify_envelope`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from catalog_sync.errors import SignatureError

__all__ = [
    "NO_PRIVATE_KEY",
    "load_private_key",
    "load_public_key",
    "load_public_keys",
    "php_json",
    "public_key_pem",
    "sign_response",
    "verify_envelope",
]

#: What an install without a configured private key puts in ``signature``.
NO_PRIVATE_KEY = "Private key not set"

PublicKeys = rsa.RSAPublicKey | Mapping[str, rsa.RSAPublicKey]


def php_json(obj: Any) -> str:
    """Encode like PHP ``json_encode`` with default flags: compact, ASCII, ``/`` → ``\\/``."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def sign_response(
    resp: dict[str, Any], private_key: rsa.RSAPrivateKey | None, key_used: str = "global"
) -> dict[str, Any]:
    """Wrap ``resp`` in a signed envelope, as a Keevault v1 server does.

    With ``private_key=None`` the signature is the literal ``"Private key not set"``, which is
    what an install without a key answers.
    """
    b64 = base64.b64encode(php_json(resp).encode("ascii")).decode("ascii")
    if private_key is None:
        signature = NO_PRIVATE_KEY
    else:
        raw = private_key.sign(b64.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        signature = base64.b64encode(raw).decode("ascii")
    return {"response": resp, "response_base64": b64, "private_key_used": key_used, "signature": signature}


def _pick_key(public_key: PublicKeys, key_used: str) -> rsa.RSAPublicKey:
    if isinstance(public_key, rsa.RSAPublicKey):
        return public_key
    if isinstance(public_key, Mapping):
        key = public_key.get(key_used)
        if key is None:
            raise SignatureError(
                f"Keevault answer signature uses the {key_used!r} key, but no {key_used!r} public key is configured"
            )
        return key
    raise SignatureError(
        f"Keevault answer signature cannot be checked: not an RSA public key ({type(public_key).__name__})"
    )


def verify_envelope(envelope: Any, public_key: PublicKeys) -> dict[str, Any]:
    """Check a Keevault envelope and return the trusted, decoded ``response``.

    ``public_key`` is one RSA public key, or a mapping ``{"global": key, "product": key}``
    chosen by the envelope's ``private_key_used``.  Raises :class:`SignatureError` (naming
    the signature) when anything is off: not an envelope, missing fields, "Private key not
    set", bad base64, a signature that does not verify, or a payload that is not a JSON object.
    """
    if not isinstance(envelope, Mapping):
        raise SignatureError(
            "Keevault answer signature cannot be checked: the answer is not a signed envelope"
        )
    missing = [f for f in ("response_base64", "signature") if not isinstance(envelope.get(f), str)]
    if missing:
        raise SignatureError(
            f"Keevault answer signature cannot be checked: envelope lacks {', '.join(missing)}; not trusted"
        )
    b64: str = envelope["response_base64"]
    signature: str = envelope["signature"]
    if signature.strip() == NO_PRIVATE_KEY:
        raise SignatureError(
            "Keevault answer is unsigned (signature 'Private key not set'): the server has no private key configured"
        )
    key = _pick_key(public_key, str(envelope.get("private_key_used") or "global"))
    try:
        raw_sig = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("Keevault answer signature is not valid base64; not trusted") from exc
    try:
        key.verify(raw_sig, b64.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise SignatureError(
            "Keevault answer signature does not verify with the configured public key; not trusted"
        ) from exc
    try:
        decoded = json.loads(base64.b64decode(b64, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(
            "Keevault answer signature verified, but response_base64 is not base64 JSON"
        ) from exc
    if not isinstance(decoded, dict):
        raise SignatureError("Keevault answer signature verified, but response_base64 is not a JSON object")
    return decoded


def _read_pem(source: str | bytes | Path) -> bytes:
    if isinstance(source, bytes):
        return source
    text = str(source)
    if "-----BEGIN" in text:
        return text.encode("ascii")
    return Path(text).expanduser().read_bytes()


def load_public_key(pem_path_or_bytes: str | bytes | Path) -> rsa.RSAPublicKey:
    """Load an RSA public key from PEM bytes/text or a PEM file path."""
    try:
        key = serialization.load_pem_public_key(_read_pem(pem_path_or_bytes))
    except (ValueError, OSError) as exc:
        raise SignatureError(f"cannot load the Keevault signature public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("the Keevault signature public key is not an RSA key")
    return key


def load_public_keys(
    global_key: str | bytes | Path, product_key: str | bytes | Path | None = None
) -> dict[str, rsa.RSAPublicKey]:
    """Keys by ``private_key_used``: ``{"global": ..., "product": ...}`` (product falls back to global)."""
    g = load_public_key(global_key)
    return {"global": g, "product": load_public_key(product_key) if product_key is not None else g}


def load_private_key(pem_path_or_bytes: str | bytes | Path) -> rsa.RSAPrivateKey:
    """Load an unencrypted RSA private key (PEM) — used by the sandbox to sign."""
    key = serialization.load_pem_private_key(_read_pem(pem_path_or_bytes), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def public_key_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """The SubjectPublicKeyInfo PEM of a key (what Keevault's "Download Public Key" gives)."""
    pub = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
