"""Symbols and indicator history: `/symbols/`, `/symbols/{symbol}/`, `/indicators/{symbol}/`."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.indicators.selectors import indicator_history_list
from apps.market.api.serializers import EpochOrIsoTimeField
from apps.market.intervals import datetime_from_ms
from apps.market.models import Symbol
from apps.screener.api.serializers import SnapshotSerializer
from apps.screener.selectors import screener_snapshots, symbol_live, symbols_list, with_metadata


class SymbolSerializer(serializers.ModelSerializer):
    """A symbol and its CoinMarketCap metadata (`coin`, attached by `with_metadata`; empty until synced)."""

    name = serializers.CharField(source="coin.name", default="", read_only=True)
    rank = serializers.IntegerField(source="coin.rank", default=None, allow_null=True, read_only=True)
    market_cap = serializers.FloatField(
        source="coin.market_cap", default=None, allow_null=True, read_only=True, help_text="USD"
    )
    circulating_supply = serializers.FloatField(
        source="coin.circulating_supply", default=None, allow_null=True, read_only=True
    )
    logo_url = serializers.CharField(source="coin.logo_url", default="", read_only=True)
    cmc_id = serializers.IntegerField(source="coin.cmc_id", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Symbol
        fields = ["symbol", "base_asset", "quote_asset", "status", "tick_size", "step_size", "listed_at",
                  "quote_volume_24h", "name", "rank", "market_cap", "circulating_supply", "logo_url",
                  "cmc_id"]  # fmt: skip


class SymbolSearchSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=64)


class SymbolListView(ListAPIView):
    """The tracked symbols with their metadata; `search` matches the symbol or the base asset."""

    serializer_class = SymbolSerializer

    @extend_schema(parameters=[SymbolSearchSerializer])
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = SymbolSearchSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)  # a NUL, which PostgreSQL refuses in any text, is a 400 here
        return symbols_list(search=query.validated_data.get("search", ""))

    def paginate_queryset(self, queryset) -> list[Symbol]:
        return with_metadata(super().paginate_queryset(queryset))


def _tracked_symbol(name: str) -> Symbol:
    found = Symbol.objects.filter(symbol=name.upper()).first()
    if found is None:
        raise NotFound(f"Unknown symbol {name!r}.")
    return found


class SymbolDetailSerializer(SymbolSerializer):
    live = inline_serializer(
        "SymbolLive",
        {
            "ticker": serializers.DictField(allow_null=True, help_text="Binance's 24h mini ticker, as streamed."),
            "forming_candle": serializers.DictField(allow_null=True, help_text="Binance's kline event `k`."),
        },
    )
    snapshots = serializers.DictField(child=SnapshotSerializer(), help_text="Timeframe -> snapshot.")

    class Meta(SymbolSerializer.Meta):
        fields = [*SymbolSerializer.Meta.fields, "is_active", "live", "snapshots"]


class SymbolDetailView(APIView):
    """A symbol's metadata, live ticker, forming 1m candle and indicator snapshots on every timeframe."""

    @extend_schema(responses={200: SymbolDetailSerializer})
    def get(self, request: Request, symbol: str) -> Response:
        found = _tracked_symbol(symbol)
        found.live = symbol_live(symbol=found.symbol)
        found.snapshots = screener_snapshots(symbol_ids=[found.id]).get(found.id, {})
        return Response(SymbolDetailSerializer(with_metadata([found])[0]).data)


class HistoryQuerySerializer(serializers.Serializer):
    timeframe = serializers.ChoiceField(choices=settings.INDICATORS_TIMEFRAMES)
    start = EpochOrIsoTimeField(required=False, help_text="Epoch ms or ISO 8601; with it, the first `limit` rows.")
    end = EpochOrIsoTimeField(required=False, help_text="Epoch ms or ISO 8601; without start, the last `limit`.")
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=500)

    def validate(self, attrs: dict) -> dict:
        if "start" in attrs and "end" in attrs and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": ["start is after end."]})
        return attrs


class HistoryRowSerializer(serializers.Serializer):
    open_time = serializers.DateTimeField()
    values = serializers.DictField(child=serializers.FloatField(allow_null=True))


class IndicatorHistoryView(APIView):
    """The indicator values of each closed candle of a timeframe, oldest first."""

    @extend_schema(parameters=[HistoryQuerySerializer], responses={200: HistoryRowSerializer(many=True)})
    def get(self, request: Request, symbol: str) -> Response:
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = indicator_history_list(
            symbol_id=_tracked_symbol(symbol).id,
            timeframe=params["timeframe"],
            start=datetime_from_ms(params["start"]) if "start" in params else None,
            end=datetime_from_ms(params["end"]) if "end" in params else None,
            limit=params["limit"],
        )
        return Response(HistoryRowSerializer(rows, many=True).data)
