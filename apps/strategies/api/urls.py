from django.urls import re_path
from rest_framework.routers import SimpleRouter

from apps.strategies.api.export import SignalCsvExportView, SignalParquetExportView
from apps.strategies.api.views import SignalViewSet, StrategyViewSet

router = SimpleRouter()
router.register("strategies", StrategyViewSet, basename="strategy")
router.register("signals", SignalViewSet, basename="signal")
SYMBOL = r"(?P<symbol>[A-Za-z0-9]{2,32})"
urlpatterns = [
    *router.urls,
    re_path(rf"^export/signals/{SYMBOL}\.csv$", SignalCsvExportView.as_view(), name="export-signals-csv"),
    re_path(rf"^export/signals/{SYMBOL}\.parquet$", SignalParquetExportView.as_view(), name="export-signals-parquet"),
]
