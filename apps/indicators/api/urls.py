from django.urls import re_path

from apps.indicators.api.export import IndicatorHistoryCsvExportView, IndicatorHistoryParquetExportView

SYMBOL = r"(?P<symbol>[A-Za-z0-9]{2,32})"

urlpatterns = [
    re_path(
        rf"^export/indicators/{SYMBOL}\.csv$", IndicatorHistoryCsvExportView.as_view(), name="export-indicators-csv"
    ),
    re_path(
        rf"^export/indicators/{SYMBOL}\.parquet$",
        IndicatorHistoryParquetExportView.as_view(),
        name="export-indicators-parquet",
    ),
]
