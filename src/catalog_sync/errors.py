"""The one exception tree of catalog-sync, grouped by what the caller should do.

Every error carries the process exit code the contract assigns to it (docs/reference/exit-codes.md),
so the CLI maps exceptions to exit codes in exactly one place (``cli.main``)::

    CatalogSyncError                 exit 1  could not run
    ├── InputError                   exit 1  unreadable / hostile / wrong-format file (names file, sheet, cell)
    ├── ConfigError                  exit 1  bad option value, config file, mapping or schema file
    ├── OutputRefusedError           exit 2  an output that would overwrite a file without --force, or of a kind not written
    ├── InvalidCatalogError          exit 3  the catalog failed validation; nothing was sent
    ├── ProviderError                        something the provider said or did not say
    │   ├── FatalProviderError       exit 1  unreachable, credentials refused, contract broken: stop the run
    │   │   └── SignatureError       exit 1  a Keevault answer whose signature does not verify
    │   ├── RetriableProviderError           429 / 5xx / timeout / dropped connection: back off and retry
    │   ├── RowFailedError                   the provider refused this row (validation, not found): mark it failed
    │   ├── UnknownOutcomeError              a write was sent and its answer lost: settle by lookup, never resend blindly
    │   ├── UntrustedAnswerError             an answer that contradicts what is known (a create named a known id)
    │   └── RemoteChangedError               the record changed since it was read: not written over (a conflict)
    ├── RowsFailedError              exit 4  the run finished but some rows failed
    ├── StateDatabaseError           exit 1  the state database could not be read or written
    ├── StateStoppedRunError         exit 1  the state database failed mid-run; the report holds every outcome
    ├── UngatedWriteError            exit 1  a write reached a run's client outside the write gate (a bug): not sent
    ├── RunInterruptedError        exit 130  Ctrl+C stopped a run after recording what it had sent
    │   └── RunTerminatedError     exit 143  SIGTERM (cron, systemd, ``timeout``) did
    ├── LockHeldError                exit 5  another run holds the state lock
    ├── LimitExceededError           exit 6  --max-deletes / --max-failures stopped the run
    └── ChangesPendingError          exit 7  plan --detailed-exitcode: changes are pending

    Terminated (a KeyboardInterrupt)  SIGTERM during a run: stop like Ctrl+C (exit 143)

Messages are written for users: they say what is wrong and how to fix it, and never
contain secrets.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "INTERRUPTED",
    "TERMINATED",
    "CatalogSyncError",
    "ChangesPendingError",
    "ConfigError",
    "FatalProviderError",
    "InputError",
    "InvalidCatalogError",
    "LimitExceededError",
    "LockHeldError",
    "OutputRefusedError",
    "ProviderError",
    "RemoteChangedError",
    "RetriableProviderError",
    "RowFailedError",
    "RowsFailedError",
    "RunInterruptedError",
    "RunTerminatedError",
    "SignatureError",
    "StateDatabaseError",
    "StateStoppedRunError",
    "Terminated",
    "UnknownOutcomeError",
    "UntrustedAnswerError",
    "interrupted_error",
    "signal_of",
]


class CatalogSyncError(Exception):
    """Base of every error catalog-sync raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context


class InputError(CatalogSyncError):
    """A file cannot be read as a catalog (names the file and, where known, sheet and cell)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        cell: str | None = None,
        **context: Any,
    ) -> None:
        where = ", ".join(
            part
            for part in (file and f"file {file}", sheet and f"sheet {sheet!r}", cell and f"cell {cell}")
            if part
        )
        super().__init__(f"{where}: {message}" if where else message, **context)
        self.file, self.sheet, self.cell = file, sheet, cell


class ConfigError(CatalogSyncError):
    """A bad option value, config, mapping or schema file."""


class OutputRefusedError(CatalogSyncError):
    """An output path refused before anything is read or sent: it exists (a file the user edits is
    never overwritten without ``--force``), or it names a kind of file the command does not write (exit 2)."""

    exit_code = 2


class InvalidCatalogError(CatalogSyncError):
    """The catalog failed validation; nothing was sent."""

    exit_code = 3


class ProviderError(CatalogSyncError):
    """Something went wrong talking to a provider."""

    def __init__(
        self, message: str, *, code: str | int | None = None, status: int | None = None, **context: Any
    ):
        super().__init__(message, **context)
        self.code = code
        self.status = status


class FatalProviderError(ProviderError):
    """Stop the run: provider unreachable, credentials refused, or an answer we cannot trust."""


class ListingMovedError(FatalProviderError):
    """A paginated listing changed while it was read, again and again: nothing may be planned on it.
    Mid-run, a lookup that needs the listing leaves the row's outcome unknown instead (the run's own
    writes may be what moves it)."""


class SignatureError(FatalProviderError):
    """A Keevault answer whose RSA signature does not verify; it is never trusted."""


class RetriableProviderError(ProviderError):
    """A transient failure (429, 5xx, timeout, dropped connection) worth retrying with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RowFailedError(ProviderError):
    """The provider refused this row; mark it failed and go on with the others."""


class UnknownOutcomeError(ProviderError):
    """A write was sent but its answer was lost; the record must be looked up, not resent."""


class UntrustedAnswerError(ProviderError):
    """An answer that contradicts what is known (a create answered with the id of another record):
    the write may have happened, so its outcome is unknown; it is never sent again on a guess."""


class RemoteChangedError(ProviderError):
    """The record changed (or went) since it was read: the write is not sent over it (a conflict)."""


class RowsFailedError(CatalogSyncError):
    """The run finished but some rows failed (the report names each)."""

    exit_code = 4


class StateDatabaseError(CatalogSyncError):
    """The state database could not be read or written (locked, disk full, I/O error).

    ``cause`` is the ``sqlite3.Error`` or ``OSError`` that arose; the message names the file.
    """

    def __init__(self, path: str, cause: BaseException) -> None:
        detail = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        super().__init__(f"the state database {path} could not be written: {detail}", path=path)
        self.path = path
        self.cause = cause
        self.detail = detail


class Terminated(KeyboardInterrupt):
    """SIGTERM (cron, systemd, ``timeout``) arrived during a run: stop like Ctrl+C does."""


class LockHeldError(CatalogSyncError):
    """Another run holds the lock on this state database."""

    exit_code = 5


class LimitExceededError(CatalogSyncError):
    """A safety limit (--max-deletes, --max-failures) stopped the run."""

    exit_code = 6


class ChangesPendingError(CatalogSyncError):
    """``plan --detailed-exitcode``: the plan has changes."""

    exit_code = 7


#: Exit status of a run stopped by Ctrl+C (128 + SIGINT, what shells and cron expect).
INTERRUPTED = 130
#: Exit status of a run stopped by SIGTERM (128 + 15: cron, systemd, ``timeout``).
TERMINATED = 143


class RunInterruptedError(CatalogSyncError):
    """A run stopped by Ctrl+C after recording what it had sent (exit 130)."""

    exit_code = INTERRUPTED


class RunTerminatedError(RunInterruptedError):
    """A run stopped by SIGTERM after recording what it had sent (exit 143)."""

    exit_code = TERMINATED


class StateStoppedRunError(CatalogSyncError):
    """The state database could not be written mid-run; the report holds every outcome (exit 1)."""


class UngatedWriteError(CatalogSyncError):
    """A run's client was asked to write outside the write gate (a bug): nothing was sent (exit 1)."""


def interrupted_error(signal_name: str, detail: str) -> RunInterruptedError:
    """The error (exit 130 for Ctrl+C, 143 for SIGTERM) of a run stopped by a signal."""
    if signal_name == "SIGTERM":
        return RunTerminatedError(f"stopped by SIGTERM: {detail}")
    return RunInterruptedError(f"interrupted (Ctrl+C): {detail}")


def signal_of(exc: KeyboardInterrupt) -> str:
    """``SIGTERM`` for a :class:`Terminated` stop, else ``SIGINT`` (Ctrl+C)."""
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
