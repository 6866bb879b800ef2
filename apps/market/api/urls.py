from django.urls import re_path

from apps.market.api.export import CandleCsvExportView, CandleParquetExportView
from apps.market.api.views import KlinesView

SYMBOL = r"(?P<symbol>[A-Za-z0-9]{2,32})"

urlpatterns = [
    re_path(r"^klines/(?P<symbol>[^/]+)/?$", KlinesView.as_view(), name="klines"),
    re_path(rf"^export/candles/{SYMBOL}\.csv$", CandleCsvExportView.as_view(), name="export-candles-csv"),
    re_path(rf"^export/candles/{SYMBOL}\.parquet$", CandleParquetExportView.as_view(), name="export-candles-parquet"),
]
