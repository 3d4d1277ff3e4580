"""Product videos (JoggAI): product + settings fingerprint -> the video made."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from catalog_sync.state.database import Database
from catalog_sync.state.model import _now
from catalog_sync.state.scope import LedgerScope


class VideoStore(Database):
    """The ``videos`` table, each row one account's (a :class:`LedgerScope`)."""

    # -- product videos (JoggAI): product + settings fingerprint -> the video made ---------
    def begin_video(
        self,
        scope: LedgerScope,
        *,
        product_id: str,
        settings: str,
        row: int | None,
        name: str,
        run_id: int,
        credits: float | None = None,
    ) -> int:
        """Record a video create about to be sent (status ``sending``, committed before it leaves)."""
        now = _now()
        cur = self._write(
            "INSERT INTO videos (provider, base_url, account, product_id, settings, row, name, status, credits,"
            " run_id, sent_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,'sending',?,?,?,?,?)",
            (
                *self._scope(scope),
                product_id,
                settings,
                row,
                name,
                credits,
                run_id,
                now,
                now,
                now,
            ),
        )
        return int(cur.lastrowid or 0)

    _VIDEO_COLUMNS = ("video_id", "status", "video_url", "cover_url", "credits", "error", "row", "run_id")

    def update_video(self, entry_id: int, **values: Any) -> None:
        """Set columns of a video entry (``video_id``, ``status``, ``video_url``, ``cover_url``, ``credits``,
        ``error``, ``row``, ``run_id``)."""
        unknown = set(values) - set(self._VIDEO_COLUMNS)
        if unknown:
            raise ValueError(f"not columns of a video entry: {', '.join(sorted(unknown))}")
        if not values:
            return
        names = sorted(values)
        assignments = ", ".join(f"{name}=?" for name in names)
        self._write(
            f"UPDATE videos SET {assignments}, updated_at=? WHERE id=?",
            (*(values[name] for name in names), _now(), entry_id),
        )

    def latest_video(self, scope: LedgerScope, product_id: str, settings: str) -> LedgerVideo | None:
        """The newest video entry of ``product_id`` with the settings fingerprint ``settings``."""
        rows = self._read(
            "SELECT * FROM videos WHERE provider=? AND base_url=? AND account=? AND product_id=? AND settings=?"
            " ORDER BY id DESC LIMIT 1",
            (*self._scope(scope), product_id, settings),
        )
        return LedgerVideo.of(rows[0]) if rows else None

    def videos(self, scope: LedgerScope, *, statuses: tuple[str, ...] = ()) -> list[LedgerVideo]:
        """Every video entry of ``scope`` (only those in ``statuses`` when given), oldest first."""
        sql = "SELECT * FROM videos WHERE provider=? AND base_url=? AND account=?"
        params: tuple[Any, ...] = self._scope(scope)
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            params += tuple(statuses)
        return [LedgerVideo.of(r) for r in self._read(sql + " ORDER BY id", params)]


@dataclass(frozen=True)
class LedgerVideo:
    """One product video the ledger knows: what was asked (product, settings) and what came of it.

    ``status``: ``sending`` (the create was about to leave, or its answer was lost: settled by the
    video list, never by creating again), ``unknown`` (sent, not found yet), then the provider's
    ``pending``/``processing``/``completed``/``failed``."""

    id: int
    product_id: str
    settings: str
    row: int | None
    name: str
    video_id: str | None
    status: str
    video_url: str
    cover_url: str
    credits: float | None
    error: str
    run_id: int | None
    sent_at: str
    created_at: str

    @classmethod
    def of(cls, row: sqlite3.Row) -> LedgerVideo:
        return cls(
            id=int(row["id"]),
            product_id=str(row["product_id"]),
            settings=str(row["settings"]),
            row=row["row"],
            name=row["name"] or "",
            video_id=row["video_id"],
            status=str(row["status"]),
            video_url=row["video_url"] or "",
            cover_url=row["cover_url"] or "",
            credits=row["credits"],
            error=row["error"] or "",
            run_id=row["run_id"],
            sent_at=row["sent_at"] or "",
            created_at=str(row["created_at"]),
        )
