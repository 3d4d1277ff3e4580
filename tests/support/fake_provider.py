"""An in-memory provider that raises the error classes the real clients raise (executor unit tests)."""

from __future__ import annotations

import threading

from catalog_sync.errors import FatalProviderError, RowFailedError, UnknownOutcomeError
from catalog_sync.planning.model import Change, Plan
from catalog_sync.spec import load_spec
from catalog_sync.state import LedgerScope
from tests.support.sync import Rec

__all__ = ["FakeProvider", "plan_of"]


class _Stats:
    def __init__(self) -> None:
        self.requests = 0


class FakeProvider:
    """Holds records in a dict; ``lose`` lists write numbers whose answer is lost AFTER applying."""

    def __init__(
        self, name: str = "royalti", *, can_lookup: bool = True, lose=(), refuse=(), fatal=()
    ) -> None:
        self.name = self.title = name
        self.spec = load_spec(name)
        self.can_lookup = self.can_list = can_lookup
        self.base_url = "http://fake.test"
        self.ledger_scope = LedgerScope.of(name, self.base_url, "key:fake")
        self.stats = _Stats()
        self.records: dict[str, dict[str, str]] = {}
        self.lose, self.refuse, self.fatal = set(lose), set(refuse), set(fatal)
        self.writes = 0
        self.finds = 0
        self._lock = threading.Lock()

    def _write(self) -> int:
        with self._lock:
            self.writes += 1
            self.stats.requests += 1
            return self.writes

    def create(self, fields):
        n = self._write()
        if n in self.refuse:
            raise RowFailedError("refused", code=40000)
        if n in self.fatal:
            raise FatalProviderError("credentials refused", status=401)
        rid = f"id{n}"
        self.records[rid] = dict(fields)
        if n in self.lose:
            raise UnknownOutcomeError("answer lost")
        return type("W", (), {"remote_id": rid, "record": None})()

    def update(self, remote_id, fields, current):
        n = self._write()
        self.records[remote_id].update(fields)
        if n in self.lose:
            raise UnknownOutcomeError("answer lost")
        return type("W", (), {"remote_id": remote_id, "record": None})()

    def delete(self, remote_id):
        self._write()
        self.records.pop(remote_id)

    def find(self, fields):
        self.finds += 1
        for rid, rec in self.records.items():
            if fields.get("id") == rid or (
                fields.get("externalId") and rec.get("externalId") == fields["externalId"]
            ):
                return Rec(rid, rec, "fp")
        return None


def plan_of(n: int, provider: str = "royalti") -> Plan:
    key = "externalId" if provider == "royalti" else "url"
    changes = [
        Change(
            row=i + 2,
            key=f"{key}=E{i}",
            action="create",
            fields={
                key: {"old": "", "new": f"E{i}"},
                ("title" if provider == "royalti" else "name"): {"old": "", "new": f"T{i}"},
            },
        )
        for i in range(n)
    ]
    return Plan(provider=provider, catalog="c.csv", base_url="http://fake.test", changes=changes)
