"""The screener's answer to a query, as status, headers and body bytes: shared by the DRF view (sessions, the
schema) and the ASGI endpoint (everyone else), so that both answer byte for byte the same."""

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from rest_framework.exceptions import NotFound
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.screener.table import ScreenerPage, ScreenerQuery, ScreenerTable

GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class ScreenerAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


class _Bodies:
    """Encoded (and gzipped) bodies of the latest answers: the same query on the same table is answered with the
    same bytes, so a burst of clients costs one encoding."""

    def __init__(self, size: int = 256) -> None:
        self._lock = threading.Lock()
        self._bodies: OrderedDict[tuple[str, str, bool], bytes] = OrderedDict()
        self._size = size

    def get(self, key: tuple[str, str, bool], make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._bodies:
                self._bodies.move_to_end(key)
                return self._bodies[key]
        body = make()
        with self._lock:
            self._bodies[key] = body
            while len(self._bodies) > self._size:
                self._bodies.popitem(last=False)
        return body


_bodies = _Bodies()


def screener_answer(
    *, table: ScreenerTable, query: ScreenerQuery, url: str, if_none_match: str, accepts_gzip: bool
) -> ScreenerAnswer:
    """Raises NotFound for a page past the last one."""
    page = table.select(query)
    if query.page > 1 and not page.rows:
        raise NotFound(f"Page {query.page} is past the last one.")
    headers = {"ETag": page.etag, "Vary": "Accept-Encoding", "Cache-Control": "no-cache"}
    if page.etag in if_none_match:
        return ScreenerAnswer(304, headers, b"")
    body = _bodies.get((page.etag, url, accepts_gzip), lambda: _encoded(url, page, query.page, accepts_gzip))
    headers["Content-Type"] = "application/json"
    if accepts_gzip and body[:2] == b"\x1f\x8b":
        headers["Content-Encoding"] = "gzip"
    return ScreenerAnswer(200, headers, body)


def _encoded(url: str, page: ScreenerPage, number: int, gzipped: bool) -> bytes:
    following = replace_query_param(url, "page", number + 1) if page.has_next else None
    previous = None
    if number > 1:
        previous = replace_query_param(url, "page", number - 1) if number > 2 else remove_query_param(url, "page")
    head = b'{"count":%d,"next":%s,"previous":%s,"results":[' % (page.count, orjson.dumps(following),
                                                                   orjson.dumps(previous))  # fmt: skip
    body = head + b",".join(page.rows) + b"]}"
    return gzip.compress(body, compresslevel=5) if gzipped and len(body) >= GZIP_MIN_BYTES else body
