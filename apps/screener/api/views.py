from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.screener.answers import screener_answer
from apps.screener.api.query import CONTROLS, MAX_PAGE_SIZE, OPERATORS, screener_query_parse
from apps.screener.api.serializers import ScreenerFieldsSerializer, ScreenerPageSerializer
from apps.screener.fields import NUMBER_FIELDS, TEXT_FIELDS, indicator_fields
from apps.screener.table import screener_state

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
        answer = screener_answer(
            table=screener_state.table(),
            query=screener_query_parse(request.query_params),
            url=request.build_absolute_uri(),
            if_none_match=request.headers.get("If-None-Match", ""),
            accepts_gzip="gzip" in request.headers.get("Accept-Encoding", ""),
        )
        return HttpResponse(answer.body, status=answer.status, headers=answer.headers)


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
