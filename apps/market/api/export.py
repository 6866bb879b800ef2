"""Export endpoints: a file per symbol and time range, streamed (apps.market.exports writes it chunk by chunk).

The indicator and strategy apps subclass `ExportView` for their own rows; market knows nothing of them.
"""

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.market.api.serializers import EpochOrIsoTimeField
from apps.market.exports import CANDLE_COLUMNS, FORMATS, Chunks, Column, candle_chunks
from apps.market.intervals import INTERVALS
from apps.market.models import Symbol


class ExportQuerySerializer(serializers.Serializer):
    start = EpochOrIsoTimeField(required=False, help_text="Rows opening at or after this time (default: the first).")
    end = EpochOrIsoTimeField(required=False, help_text="Rows opening at or before this time (default: the last).")

    def validate(self, attrs: dict) -> dict:
        if "start" in attrs and "end" in attrs and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": ["start is after end."]})
        return attrs


class JsonErrors(BaseContentNegotiation):
    """The file's type is in the path, whatever the Accept header says; errors are JSON in the one error format."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0]


async def _pulled(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    # TRICKY: under ASGI Django would first read a sync iterator to the end into a list; pulled a chunk at a time
    # (in the thread that holds the request's database connection) it stays streamed.
    pull = sync_to_async(next, thread_sensitive=True)
    while (chunk := await pull(chunks, None)) is not None:
        yield chunk


def export_response(request: Request, *, columns: list[Column], chunks: Chunks, fmt: str, filename: str):
    write, content_type = FORMATS[fmt]
    content = write(columns, chunks)
    under_asgi = getattr(request, "scope", None) is not None
    response = StreamingHttpResponse(_pulled(content) if under_asgi else content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def symbol_found(name: str) -> Symbol:
    found = Symbol.objects.filter(symbol=name.upper()).first()
    if found is None:
        raise ValidationError({"symbol": [f"Unknown symbol {name!r}."]})
    return found


def export_schema(query: type[serializers.Serializer], fmt: str, description: str):
    content_type = FORMATS[fmt][1]
    body = OpenApiTypes.STR if fmt == "csv" else OpenApiTypes.BINARY
    return extend_schema(
        summary=description,
        parameters=[query],
        responses={(200, content_type): OpenApiResponse(body, description=f"{fmt.upper()}, streamed")},
    )


class ExportView(APIView):
    """One symbol's rows of a time range as a CSV or Parquet file, streamed in constant memory."""

    content_negotiation_class = JsonErrors
    fmt = "csv"

    def params(self, request: Request, query: type[serializers.Serializer]) -> dict:
        parsed = query(data=request.query_params)
        parsed.is_valid(raise_exception=True)
        return parsed.validated_data


class CandleExportQuerySerializer(ExportQuerySerializer):
    interval = serializers.ChoiceField(choices=list(INTERVALS), default="1m")


class CandleExportView(ExportView):
    def export(self, request: Request, symbol: str):
        params = self.params(request, CandleExportQuerySerializer)
        found = symbol_found(symbol)
        interval = INTERVALS[params["interval"]]
        chunks = candle_chunks(
            symbol=found, interval=interval, start_ms=params.get("start", 0), end_ms=params.get("end")
        )
        filename = f"{found.symbol}-{interval.name}"
        return export_response(request, columns=CANDLE_COLUMNS, chunks=chunks, fmt=self.fmt, filename=filename)


class CandleCsvExportView(CandleExportView):
    fmt = "csv"

    @export_schema(CandleExportQuerySerializer, "csv", "Candles of any interval as CSV, rolled up like the klines")
    def get(self, request: Request, symbol: str):
        return self.export(request, symbol)


class CandleParquetExportView(CandleExportView):
    fmt = "parquet"

    @export_schema(CandleExportQuerySerializer, "parquet", "Candles of any interval as Parquet")
    def get(self, request: Request, symbol: str):
        return self.export(request, symbol)
