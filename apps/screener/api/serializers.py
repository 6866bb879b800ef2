"""The screener's answers as the OpenAPI schema describes them (the rows themselves are encoded by the table)."""

from rest_framework import serializers


class SnapshotSerializer(serializers.Serializer):
    open_time = serializers.DateTimeField(help_text="Open time of the candle the values are for.")
    candle_closed = serializers.BooleanField(help_text="False while that candle is still forming.")
    values = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text="Indicator output -> value (null: too little history)."
    )


class SignalSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    strategy = serializers.IntegerField()
    strategy_name = serializers.CharField()
    timeframe = serializers.CharField()
    open_time = serializers.DateTimeField()
    candle_closed = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ScreenerRowSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    base_asset = serializers.CharField()
    quote_asset = serializers.CharField()
    name = serializers.CharField(help_text="CoinMarketCap's name; empty until metadata is synced.")
    rank = serializers.IntegerField(allow_null=True)
    market_cap = serializers.FloatField(allow_null=True, help_text="USD")
    logo_url = serializers.CharField()
    price = serializers.FloatField(allow_null=True)
    change_24h = serializers.FloatField(allow_null=True, help_text="Percent")
    quote_volume_24h = serializers.FloatField(allow_null=True)
    sparkline_24h = serializers.ListField(child=serializers.FloatField(), help_text="Hourly closes, the last forming.")
    indicators = serializers.DictField(child=SnapshotSerializer(), help_text="Timeframe -> snapshot.")
    signals = SignalSummarySerializer(many=True, help_text="The newest strategy signals (5 at most), newest first.")


class ScreenerPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ScreenerRowSerializer(many=True)


class ScreenerFieldsSerializer(serializers.Serializer):
    text = serializers.ListField(child=serializers.CharField())
    number = serializers.ListField(child=serializers.CharField())
    operators = serializers.ListField(child=serializers.CharField())
    controls = serializers.ListField(child=serializers.CharField())
