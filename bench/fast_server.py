"""A fast stand-in for Royalti's product listing (issue 20 item 1): a plain threaded ``http.server``
answering ``GET /product/`` from pages made once, up front, as bytes.

The sandbox is a faithful emulator, and slower than the client: a plain read of its pages took 48 s
for a million records. Measured against it, the client's own cost hides behind the server's.
This server does nothing per request beyond parsing the query and one dict look-up, so what a
``plan`` costs beyond a plain sequential read of the same pages is the client's own.  It runs in
a process of its own (``python -m bench.fast_server RECORDS``), so neither the plan nor the plain
read it is compared with shares an interpreter lock with it.

    with fast_listing(records=100_000) as url:
        ...   # catalog-sync plan CATALOG -p royalti --base-url URL

The pages are those of :func:`bench.remote._product`, in the shape of the Royalti emulator's
(``products``, ``totalPages``, ``currentPage``, ``filteredItems``), so a plan of
:func:`bench.remote.write_catalog`'s catalog sees the same records and changes as on the sandbox.
A page size other than the client's (100) is made on first asking and kept.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["fast_listing", "listing_pages"]

PAGE_SIZE = 100


def listing_pages(products: list[dict[str, Any]], size: int) -> dict[int, bytes]:
    """Page number → the JSON body of that page of ``products``, ``size`` a page."""
    pages = max(1, math.ceil(len(products) / size))
    return {
        page: json.dumps(
            {
                "message": "Products retrieved successfully",
                "products": products[(page - 1) * size : page * size],
                "totalPages": pages,
                "currentPage": page,
                "filteredItems": len(products),
            },
            separators=(",", ":"),
        ).encode()
        for page in range(1, pages + 1)
    }


class _Pages:
    """The bodies by (size, page), made once per size."""

    def __init__(self, products: list[dict[str, Any]]) -> None:
        self.products = products
        self.by_size = {PAGE_SIZE: listing_pages(products, PAGE_SIZE)}
        self.lock = threading.Lock()
        self.served = 0

    def body(self, size: int, page: int) -> bytes:
        pages = self.by_size.get(size)
        if pages is None:
            with self.lock:
                pages = self.by_size.setdefault(size, listing_pages(self.products, size))
        if page in pages:
            return pages[page]
        past = {"message": "Products retrieved successfully", "products": [], "totalPages": len(pages)}
        return json.dumps({**past, "currentPage": page, "filteredItems": len(self.products)}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client's pooled connection is reused, as on a real API
    disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms delayed-ACK wait per page

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.rstrip("/") != "/product":
            self._send(404, b'{"message":"Not found"}')
            return
        query = parse_qs(parts.query)
        page = int((query.get("page") or ["1"])[0])
        size = int((query.get("size") or ["10"])[0])
        pages: _Pages | _LazyPages = self.server.pages  # type: ignore[attr-defined]
        pages.served += 1
        self._send(200, pages.body(size, page))

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _LazyPages:
    """The bodies made on asking, from one product's JSON as a template (no page kept): for listings
    whose pages would not fit in memory (10M records: ~5 GB of bodies)."""

    _VARYING = ("id", "upc", "title", "externalId", "releaseDate", "createdAt", "updatedAt")

    def __init__(self, records: int) -> None:
        from bench.remote import _product

        self.records = records
        self.served = 0
        sample = _product(0)
        sample.update({name: f"@{name}@" for name in self._VARYING})
        text = json.dumps(sample, separators=(",", ":")).replace("{", "{{").replace("}", "}}")
        for name in self._VARYING:
            text = text.replace(f'"@{name}@"', f"{{{name}}}")
        self.template = text

    def product(self, i: int) -> str:
        from bench.remote import _row

        row = _row(i)
        stamp = json.dumps(f"2024-01-01T00:00:00.{i:07d}Z")
        values = {name: json.dumps(row[name]) for name in self._VARYING[:5]}
        return self.template.format(**values, createdAt=stamp, updatedAt=stamp)

    def body(self, size: int, page: int) -> bytes:
        pages = max(1, math.ceil(self.records / size))
        products = ",".join(self.product(i) for i in range((page - 1) * size, min(page * size, self.records)))
        head = {"message": "Products retrieved successfully", "products": [], "totalPages": pages}
        text = json.dumps({**head, "currentPage": page, "filteredItems": self.records}, separators=(",", ":"))
        return text.replace('"products":[]', f'"products":[{products}]').encode()


@contextmanager
def fast_listing(records: int, *, lazy: bool = False) -> Iterator[str]:
    """Serve ``records`` products of :func:`bench.remote._product` on 127.0.0.1 from a process of
    its own; yields the base URL (once the pages are made and the server listens).  ``lazy``: each
    page made when asked for (:class:`_LazyPages`), for listings too big to hold."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "bench.fast_server", str(records), *(["--lazy"] if lazy else [])]
    server = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root, env=env
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the fast server did not start (exit {server.wait()})")
        yield url
    finally:
        server.kill()
        server.wait()


def serve(records: int, lazy: bool = False) -> None:
    """Make the pages, print the base URL, and serve until stdin closes (the parent went away)."""
    from bench.remote import _product

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    pages = _LazyPages(records) if lazy else _Pages([_product(i) for i in range(records)])
    server.pages = pages  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    serve(int(sys.argv[1]), lazy="--lazy" in sys.argv[2:])
