"""The baseline of the `screener` benchmark (`orm_per_request`): the screener's payload built from the ORM on each
request, the usual way (a queryset, its related rows prefetched, a DRF serializer, gzip by Django's middleware)."""

import time

from django.db.models import F, OuterRef, Subquery
from django.middleware.gzip import GZipMiddleware
from django.urls import include, path
from django.utils.decorators import decorator_from_middleware
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination

from apps.indicators.models import Snapshot
from apps.market.live import live_tickers_get
from apps.market.models import CoinMetadata, Symbol
from apps.screener.selectors import screener_sparklines


class OrmRowSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    rank = serializers.SerializerMethodField()
    market_cap = serializers.FloatField(read_only=True, allow_null=True)  # annotated by the queryset
    logo_url = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()
    change_24h = serializers.SerializerMethodField()
    quote_volume_24h = serializers.SerializerMethodField()
    sparkline_24h = serializers.SerializerMethodField()
    indicators = serializers.SerializerMethodField()

    class Meta:
        model = Symbol
        fields = ["symbol", "base_asset", "quote_asset", "name", "rank", "market_cap", "logo_url", "price",
                  "change_24h", "quote_volume_24h", "sparkline_24h", "indicators"]  # fmt: skip

    def _coin(self, symbol):
        return self.context["coins"].get(symbol.base_asset)

    def _ticker(self, symbol):
        return self.context["tickers"].get(symbol.symbol)

    def get_name(self, symbol):
        return getattr(self._coin(symbol), "name", "")

    def get_rank(self, symbol):
        return getattr(self._coin(symbol), "rank", None)

    def get_logo_url(self, symbol):
        return getattr(self._coin(symbol), "logo_url", "")

    def get_price(self, symbol):
        ticker = self._ticker(symbol)
        return float(ticker["c"]) if ticker else None

    def get_change_24h(self, symbol):
        ticker = self._ticker(symbol)
        return (float(ticker["c"]) / float(ticker["o"]) - 1) * 100 if ticker else None

    def get_quote_volume_24h(self, symbol):
        ticker = self._ticker(symbol)
        return float(ticker["q"]) if ticker else None

    def get_sparkline_24h(self, symbol):
        return self.context["sparklines"].get(symbol.id, [])

    def get_indicators(self, symbol):
        return {snapshot.timeframe: {"open_time": snapshot.open_time, "candle_closed": snapshot.candle_closed,
                                     "values": snapshot.values}
                for snapshot in self.context["snapshots"].get(symbol.id, [])}  # fmt: skip


class OrmScreenerView(ListAPIView):
    serializer_class = OrmRowSerializer
    pagination_class = type("Pages", (PageNumberPagination,), {"page_size_query_param": "page_size",
                                                                "max_page_size": 1000})  # fmt: skip

    def get_queryset(self):
        market_cap = CoinMetadata.objects.filter(base_asset=OuterRef("base_asset")).values("market_cap")
        return (
            Symbol.objects.tracked()
            .annotate(market_cap=Subquery(market_cap))
            .order_by(F("market_cap").desc(nulls_last=True), "symbol")
        )

    def get_serializer_context(self):
        symbols = list(Symbol.objects.tracked().values_list("id", "symbol", "base_asset"))
        now_ms = int(time.time() * 1000)
        snapshots = {}
        for snapshot in Snapshot.objects.filter(symbol__in=Symbol.objects.tracked()):
            snapshots.setdefault(snapshot.symbol_id, []).append(snapshot)
        return super().get_serializer_context() | {
            "snapshots": snapshots,
            "coins": {coin.base_asset: coin for coin in CoinMetadata.objects.all()},
            "tickers": live_tickers_get([symbol for _, symbol, _ in symbols]),
            "sparklines": screener_sparklines(symbol_ids=[id_ for id_, _, _ in symbols], now_ms=now_ms),
        }


urlpatterns = [
    path("bench/screener-orm/", decorator_from_middleware(GZipMiddleware)(OrmScreenerView.as_view())),
    path("", include("config.urls")),
]
