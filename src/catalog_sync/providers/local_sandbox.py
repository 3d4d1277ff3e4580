"""First use against a local ``catalog-sync sandbox``: nothing to export.

Two things a client may take for granted when, and only when, its base URL is a loopback
address (``127.0.0.0/8``, ``localhost``, ``[::1]``):

* **the demo key.**  With none of the provider's credential variables set, the client sends
  the provider's documented demo key (``registry`` ``demo_key``), which a sandbox accepts
  when its own variable is unset.  A remote host never gets it.
* **the sandbox's public key (Keevault).**  ``catalog-sync sandbox -p keevault`` writes the
  PEM it signs with into the state directory of the folder it runs in
  (``.catalog-sync/sandbox-keevault-public-key.pem``) and, next to it, a record
  (``….json``) naming the URL it serves, its process id and the PEM's SHA-256.  With
  ``KEEVAULT_PUBLIC_KEY`` unset, a client in the same folder trusts that PEM for exactly that
  URL: the record must name the client's base URL (scheme, host, port), the PEM must hash to
  the recorded value, both files must belong to this user and be writable by no one else,
  and the sandbox process must still be running.  Anything else is never trusted.

Each use is said once on stderr.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import stat
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from catalog_sync.config.credentials import Credentials

__all__ = [
    "RECORD_WRITER",
    "STATE_DIR",
    "default_public_key_path",
    "demo_credentials",
    "forget_sandbox_public_key",
    "is_loopback_url",
    "note_once",
    "record_path",
    "sandbox_public_key_for",
    "write_sandbox_public_key",
]

STATE_DIR = Path(".catalog-sync")
RECORD_WRITER = "catalog-sync sandbox"

_noted: set[str] = set()
_noted_lock = threading.Lock()


def note_once(text: str) -> None:
    """Say ``text`` on stderr, once per process."""
    with _noted_lock:
        if text in _noted:
            return
        _noted.add(text)
    print(f"Note: {text}", file=sys.stderr, flush=True)


def is_loopback_url(url: str | None) -> bool:
    """True for an http(s) URL whose host is 127.0.0.0/8, ``localhost`` or ``[::1]``."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, int | None, str] | None:
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname or "", parts.port, parts.path.rstrip("/")
    except ValueError:
        return None


# ---------------------------------------------------------------- the demo key
def demo_credentials(
    provider: str,
    credentials: Credentials,
    base_url: str,
    *,
    env: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
) -> Credentials | None:
    """The provider's demo-key credentials, when ``base_url`` is a loopback address and none of the
    provider's credential variables is set; ``None`` otherwise (the given credentials stand)."""
    from catalog_sync.providers.registry import provider_info

    info = provider_info(provider)
    required = {name for option in info.required for name in option}
    if credentials.complete or required & set(credentials.names) or not is_loopback_url(base_url):
        return None
    return Credentials.load(
        provider, env=env, config=config, require=False, **{info.key_variable: info.demo_key}
    )


# ---------------------------------------------------------------- the sandbox's public key
def default_public_key_path(provider: str = "keevault") -> Path:
    """Where ``catalog-sync sandbox`` writes its PEM by default (relative to the folder it runs in)."""
    return STATE_DIR / f"sandbox-{provider}-public-key.pem"


def record_path(pem_path: Path) -> Path:
    """The record next to a sandbox's PEM: which URL and process the PEM belongs to."""
    return pem_path.with_suffix(".json")


def write_sandbox_public_key(pem_path: str | Path, pem: str, url: str, provider: str = "keevault") -> Path:
    """Write the PEM and its record (URL, port, process id, SHA-256); the absolute PEM path."""
    out = Path(pem_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    data = pem.encode("ascii")
    _write_private(out, data)
    record = {
        "written_by": RECORD_WRITER,
        "provider": provider,
        "url": url,
        "port": urlsplit(url).port,
        "pid": os.getpid(),
        "public_key_sha256": hashlib.sha256(data).hexdigest(),
    }
    _write_private(record_path(out), (json.dumps(record, indent=2) + "\n").encode("utf-8"))
    return out


def _write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, readable by all, writable by this user only."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def forget_sandbox_public_key(pem_path: str | Path, url: str) -> None:
    """Remove the record a stopping sandbox wrote (if it is still its own): the PEM is trusted no more."""
    record = record_path(Path(pem_path).resolve())
    held = _read_record(record)
    if held is not None and held.get("url") == url and held.get("pid") == os.getpid():
        with contextlib.suppress(OSError):
            record.unlink()


def sandbox_public_key_for(
    base_url: str, provider: str = "keevault", folder: Path | None = None
) -> tuple[Path, bytes] | None:
    """The PEM (path, bytes) a running local sandbox wrote for exactly ``base_url``, or ``None``."""
    if not is_loopback_url(base_url):
        return None
    pem_path = (folder or STATE_DIR) / f"sandbox-{provider}-public-key.pem"
    record = _read_record(record_path(pem_path))
    if record is None or not _record_fits(record, base_url, provider):
        return None
    data = _read_owned(pem_path)
    if data is None or hashlib.sha256(data).hexdigest() != record.get("public_key_sha256"):
        return None
    return pem_path, data


def _record_fits(record: dict[str, Any], base_url: str, provider: str) -> bool:
    url = record.get("url")
    return (
        record.get("written_by") == RECORD_WRITER
        and record.get("provider") == provider
        and isinstance(url, str)
        and is_loopback_url(url)
        and _origin(url) is not None
        and _origin(url) == _origin(base_url)
        and _alive(record.get("pid"))
    )


def _read_record(path: Path) -> dict[str, Any] | None:
    data = _read_owned(path)
    if data is None:
        return None
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _read_owned(path: Path, limit: int = 64 * 1024) -> bytes | None:
    """The bytes of a small regular file of this user that no one else may write; else ``None``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not _safe_file(info) or info.st_size > limit:
            return None
        return handle.read(limit + 1)


def _safe_file(info: os.stat_result) -> bool:
    if not stat.S_ISREG(info.st_mode):
        return False
    if os.name != "posix":
        return True
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def _alive(pid: Any) -> bool:
    """True when process ``pid`` is running (always True where that cannot be asked cheaply)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
