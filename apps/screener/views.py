"""The dashboard's pages: thin views rendering templates; the pages read the API and the live stream themselves."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# The symbol page's interval switcher: what the klines API rolls up from the stored 1m candles.
CHART_INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d", "1w")
DEFAULT_CHART_INTERVAL = "1h"


def screener_page(request: HttpRequest) -> HttpResponse:
    """Every active symbol from /api/v1/screener/, sortable, filterable (in the query string) and live."""
    return render(request, "dashboard/screener.html", {"timeframes": settings.INDICATORS_TIMEFRAMES})


def symbol_page(request: HttpRequest, symbol: str) -> HttpResponse:
    """One symbol's candlestick chart (klines API) with its indicators (history API), snapshots and signals."""
    interval = request.GET.get("interval", DEFAULT_CHART_INTERVAL)
    if interval not in CHART_INTERVALS:
        interval = DEFAULT_CHART_INTERVAL
    context = {
        "symbol": symbol.upper(),
        "intervals": CHART_INTERVALS,
        "interval": interval,
        "history_timeframes": settings.INDICATORS_TIMEFRAMES,  # the others' indicators are computed in the browser
    }
    return render(request, "dashboard/symbol.html", context)
