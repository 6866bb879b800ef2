"""Indicator history of a symbol and timeframe as CSV or Parquet: a column per output, a row per closed candle."""

from collections.abc import Iterator
from datetime import datetime

import pyarrow as pa
from rest_framework import serializers
from rest_framework.request import Request

from apps.indicators.models import IndicatorHistory, Timeframe
from apps.indicators.registry import OUTPUTS
from apps.market.api.export import ExportQuerySerializer, ExportView, export_response, export_schema, symbol_found
from apps.market.exports import CHUNK_ROWS, TIME, Column, rows_csv
from apps.market.intervals import datetime_from_ms, ms_from_datetime

COLUMNS = [Column("open_time", TIME), *(Column(output, pa.float64()) for output in OUTPUTS)]


def indicator_history_chunks(
    *, symbol_id: int, timeframe: str, start: datetime | None, end: datetime | None
) -> Iterator[bytes]:
    """Oldest first, CHUNK_ROWS rows a read, each read after the last open time read (keyset on the primary key)."""
    rows = IndicatorHistory.objects.filter(symbol_id=symbol_id, timeframe=timeframe).order_by("open_time")
    if end is not None:
        rows = rows.filter(open_time__lte=end)
    after = rows.filter(open_time__gte=start) if start else rows
    while chunk := list(after.values_list("open_time", "values")[:CHUNK_ROWS]):
        yield rows_csv((ms_from_datetime(time), *(values.get(output) for output in OUTPUTS)) for time, values in chunk)
        after = rows.filter(open_time__gt=chunk[-1][0])


class IndicatorExportQuerySerializer(ExportQuerySerializer):
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, default=Timeframe.H1)


class IndicatorHistoryExportView(ExportView):
    def export(self, request: Request, symbol: str):
        params = self.params(request, IndicatorExportQuerySerializer)
        found = symbol_found(symbol)
        chunks = indicator_history_chunks(
            symbol_id=found.id,
            timeframe=params["timeframe"],
            start=datetime_from_ms(params["start"]) if "start" in params else None,
            end=datetime_from_ms(params["end"]) if "end" in params else None,
        )
        filename = f"{found.symbol}-indicators-{params['timeframe']}"
        return export_response(request, columns=COLUMNS, chunks=chunks, fmt=self.fmt, filename=filename)


class IndicatorHistoryCsvExportView(IndicatorHistoryExportView):
    fmt = "csv"

    @export_schema(IndicatorExportQuerySerializer, "csv", "Indicator history as CSV, a column per output")
    def get(self, request: Request, symbol: str):
        return self.export(request, symbol)


class IndicatorHistoryParquetExportView(IndicatorHistoryExportView):
    fmt = "parquet"

    @export_schema(IndicatorExportQuerySerializer, "parquet", "Indicator history as Parquet, a column per output")
    def get(self, request: Request, symbol: str):
        return self.export(request, symbol)
