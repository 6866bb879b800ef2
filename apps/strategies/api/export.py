"""A symbol's strategy signals of a time range as CSV or Parquet, by the open time of their candle."""

import json
from collections.abc import Iterator
from datetime import datetime

import pyarrow as pa
from django.db.models import Q
from rest_framework import serializers
from rest_framework.request import Request

from apps.indicators.models import Timeframe
from apps.market.api.export import ExportQuerySerializer, ExportView, export_response, export_schema, symbol_found
from apps.market.exports import CHUNK_ROWS, TIME, Column, rows_csv
from apps.market.intervals import datetime_from_ms, ms_from_datetime
from apps.strategies.models import Signal

COLUMNS = [
    Column("open_time", TIME),
    Column("strategy", pa.string()),
    Column("timeframe", pa.string()),
    Column("candle_closed", pa.bool_()),
    Column("values", pa.string()),  # JSON: name -> number or null
    Column("created_at", TIME),
]
FIELDS = ("open_time", "id", "strategy__name", "timeframe", "candle_closed", "values", "created_at")


def signal_chunks(
    *, symbol_id: int, timeframe: str | None, start: datetime | None, end: datetime | None
) -> Iterator[bytes]:
    """Oldest candle first, CHUNK_ROWS rows a read, each read after the last (open time, id) read."""
    signals = Signal.objects.filter(symbol_id=symbol_id).order_by("open_time", "id")
    if timeframe:
        signals = signals.filter(timeframe=timeframe)
    if start is not None:
        signals = signals.filter(open_time__gte=start)
    if end is not None:
        signals = signals.filter(open_time__lte=end)
    after = signals
    while chunk := list(after.values_list(*FIELDS)[:CHUNK_ROWS]):
        yield rows_csv((ms_from_datetime(open_time), name, frame, closed, json.dumps(values), ms_from_datetime(created))
                       for open_time, _, name, frame, closed, values, created in chunk)  # fmt: skip
        last_time, last_id = chunk[-1][:2]
        after = signals.filter(Q(open_time__gt=last_time) | Q(open_time=last_time, id__gt=last_id))


class SignalExportQuerySerializer(ExportQuerySerializer):
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, required=False)


class SignalExportView(ExportView):
    def export(self, request: Request, symbol: str):
        params = self.params(request, SignalExportQuerySerializer)
        found = symbol_found(symbol)
        chunks = signal_chunks(
            symbol_id=found.id,
            timeframe=params.get("timeframe"),
            start=datetime_from_ms(params["start"]) if "start" in params else None,
            end=datetime_from_ms(params["end"]) if "end" in params else None,
        )
        filename = f"{found.symbol}-signals"
        return export_response(request, columns=COLUMNS, chunks=chunks, fmt=self.fmt, filename=filename)


class SignalCsvExportView(SignalExportView):
    fmt = "csv"

    @export_schema(SignalExportQuerySerializer, "csv", "Strategy signals as CSV")
    def get(self, request: Request, symbol: str):
        return self.export(request, symbol)


class SignalParquetExportView(SignalExportView):
    fmt = "parquet"

    @export_schema(SignalExportQuerySerializer, "parquet", "Strategy signals as Parquet")
    def get(self, request: Request, symbol: str):
        return self.export(request, symbol)
