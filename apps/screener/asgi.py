"""`GET /api/v1/screener/` for anonymous clients, answered on the event loop.

Most screener traffic is programs and pages polling it without credentials. For them Django's request cycle (the
thread hop of a sync view, the middleware, DRF's dispatch) costs ten times what the answer itself does: the table
is in memory and the bodies are already encoded. This endpoint does what that cycle would for such a request (the
host check, the per-address throttle, the query check with its 400s, the same answer as the DRF view, the security
headers, the latency metric) and hands everything else to Django: credentials (a session cookie, an
Authorization header), other methods and paths, and reads closed to anonymous clients.
"""

import asyncio
import logging
import time
from types import SimpleNamespace

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import QueryDict
from django.http.request import split_domain_port, validate_host
from rest_framework.exceptions import APIException, Throttled
from rest_framework.throttling import BaseThrottle

from apps.market.api.errors import error_body
from apps.monitoring.metrics import http_request_duration
from apps.screener.answers import screener_answer
from apps.screener.api.query import screener_query_parse
from apps.screener.table import screener_state
from config.api import throttle_retry_after_async

logger = logging.getLogger(__name__)

PATHS = frozenset({"/api/v1/screener/", "/api/v1/screener"})
# What Django's SecurityMiddleware and XFrameOptionsMiddleware add to a JSON answer.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "Cross-Origin-Opener-Policy": "same-origin", "X-Frame-Options": "DENY"}  # fmt: skip


class AnonymousScreener:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if not self._takes(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        try:
            status, answer_headers, body = await self._answer(scope, headers)
        except APIException as error:
            status = error.status_code
            answer_headers = {"Content-Type": "application/json"}
            if isinstance(error, Throttled):
                answer_headers["Retry-After"] = str(int(error.wait))
            body = orjson.dumps(error_body(error, status))
        await send({"type": "http.response.start", "status": status, "headers": [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in (answer_headers | SECURITY_HEADERS | {"Content-Length": str(len(body))}).items()
        ]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
        http_request_duration.labels("screener", "GET", str(status)).observe(time.perf_counter() - started)

    def _takes(self, scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in PATHS:
            return False
        if settings.API_READ_REQUIRES_AUTH:
            return False
        return not any(name in (b"cookie", b"authorization") for name, _ in scope["headers"])

    async def _answer(self, scope, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        host = headers.get("host", "")
        if not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
            return 400, {"Content-Type": "text/plain"}, b"Bad Request (invalid host)"
        retry_after = await throttle_retry_after_async("anon", _client_address(scope, headers))
        if retry_after:
            raise Throttled(wait=retry_after)
        query_string = scope["query_string"].decode("latin-1")
        query = screener_query_parse(QueryDict(query_string))
        table = screener_state.table_as_is()
        if table is None:
            table = await sync_to_async(screener_state.table, thread_sensitive=False)()
        elif screener_state.refresh_claimed():
            # In a thread, while requests go on with the table as it is (a refresh older at most): none waits for
            # the database.
            asyncio.get_running_loop().run_in_executor(None, _refresh, screener_state)
        answer = screener_answer(
            table=table,
            query=query,
            url=f"{_scheme(scope, headers)}://{host}{scope['path']}" + (f"?{query_string}" if query_string else ""),
            if_none_match=headers.get("if-none-match", ""),
            accepts_gzip="gzip" in headers.get("accept-encoding", ""),
        )
        return answer.status, answer.headers, answer.body


def _refresh(state) -> None:
    try:
        state.refresh_claimed_run()
    except Exception:  # the database or Redis failing: the table stays as it is until the next try
        logger.exception("screener table refresh failed")


def _client_address(scope, headers: dict[str, str]) -> str:
    """What DRF's throttles count by (REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES proxies)."""
    meta = {"REMOTE_ADDR": scope["client"][0] if scope.get("client") else ""}
    return BaseThrottle().get_ident(SimpleNamespace(META=meta, headers=headers))


def _scheme(scope, headers: dict[str, str]) -> str:
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure = proxy_header
        if headers.get(name.removeprefix("HTTP_").replace("_", "-").lower()) == secure:
            return "https"
    return scope.get("scheme", "http")
