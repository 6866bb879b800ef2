import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable

import orjson
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from apps.screener.api.query import CONTROLS, MAX_PAGE_SIZE, OPERATORS, screener_query_parse
from apps.screener.api.serializers import ScreenerFieldsSerializer, ScreenerPageSerializer
from apps.screener.fields import NUMBER_FIELDS, TEXT_FIELDS, indicator_fields
from apps.screener.table import ScreenerPage, screener_state

GZIP_MIN_BYTES = 1024


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

_FILTER_PARAMETERS = [
    OpenApiParameter(f"{name}__{operator}", OpenApiTypes.DOUBLE, description=f"{name} {operator} this")
    for name in (*NUMBER_FIELDS, "rsi_1h") for operator in OPERATORS
]  # fmt: skip


class ScreenerView(APIView):
    """One row per active symbol, from the table the pipeline keeps up to date."""

    @extend_schema(
        summary="The screener",
        description=(
            "Filter on any field (`GET /api/v1/screener/fields/`) with `<field>=` or `<field>__lt|lte|gt|gte=`, "
            "e.g. `rsi_1h__lt=30&quote_volume_24h__gte=1000000`; `search` matches symbol, name and base asset; "
            "`ordering` is a comma-separated list of fields, `-` for descending (default `-market_cap`); a "
            "missing value never matches a filter and sorts last. Conditional requests with `If-None-Match`."
        ),
        parameters=[
            OpenApiParameter("search", OpenApiTypes.STR),
            OpenApiParameter("ordering", OpenApiTypes.STR, examples=[]),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT, description=f"1 to {MAX_PAGE_SIZE}, default 100"),
            *_FILTER_PARAMETERS,
        ],
        responses={200: ScreenerPageSerializer},
    )
    def get(self, request: Request) -> HttpResponse:
        query = screener_query_parse(request.query_params)
        page = screener_state.table().select(query)
        if query.page > 1 and not page.rows:
            raise NotFound(f"Page {query.page} is past the last one.")
        if page.etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        else:
            gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
            url = request.build_absolute_uri()
            body = _bodies.get((page.etag, url, gzipped), lambda: _encoded(url, page, query.page, gzipped))
            response = HttpResponse(body, content_type="application/json")
            if gzipped and body[:2] == b"\x1f\x8b":
                response["Content-Encoding"] = "gzip"
        response["ETag"] = page.etag
        response["Vary"] = "Accept-Encoding"
        response["Cache-Control"] = "no-cache"
        return response


def _encoded(url: str, page: ScreenerPage, number: int, gzipped: bool) -> bytes:
    following = replace_query_param(url, "page", number + 1) if page.has_next else None
    previous = None
    if number > 1:
        previous = replace_query_param(url, "page", number - 1) if number > 2 else remove_query_param(url, "page")
    head = b'{"count":%d,"next":%s,"previous":%s,"results":[' % (page.count, _json_text(following),
                                                                   _json_text(previous))  # fmt: skip
    body = head + b",".join(page.rows) + b"]}"
    return gzip.compress(body, compresslevel=5) if gzipped and len(body) >= GZIP_MIN_BYTES else body


def _json_text(text: str | None) -> bytes:
    return orjson.dumps(text)


class ScreenerFieldsView(APIView):
    """What the screener can filter and order on."""

    @extend_schema(summary="Screener fields", responses={200: ScreenerFieldsSerializer})
    def get(self, request: Request) -> Response:
        return Response(
            {
                "text": list(TEXT_FIELDS),
                "number": [*NUMBER_FIELDS, *indicator_fields()],
                "operators": ["", *(f"__{operator}" for operator in OPERATORS)],
                "controls": list(CONTROLS),
            }
        )
