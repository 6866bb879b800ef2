from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from apps.analytics.selectors import PAIRS_DEFAULT_LIMIT, PAIRS_MIN_CANDLES
from apps.market.api.serializers import EpochOrIsoTimeField
from apps.market.intervals import INTERVALS

PAIRS_MAX_CANDLES = 5000
CORRELATION_MAX_SYMBOLS = 50


class PairsQuerySerializer(serializers.Serializer):
    a = serializers.CharField(max_length=32, help_text="The first symbol, e.g. BTCUSDT (the dependent leg).")
    b = serializers.CharField(max_length=32, help_text="The second symbol, e.g. ETHUSDT (the hedge leg).")
    interval = serializers.ChoiceField(choices=list(INTERVALS), default="1h")
    window = serializers.IntegerField(
        min_value=2, max_value=PAIRS_MAX_CANDLES, default=30, help_text="Candles in each rolling window."
    )
    start = EpochOrIsoTimeField(required=False, help_text="Epoch ms or ISO 8601; with it, the first `limit` candles.")
    end = EpochOrIsoTimeField(required=False, help_text="Epoch ms or ISO 8601; without start, the last `limit`.")
    limit = serializers.IntegerField(min_value=PAIRS_MIN_CANDLES, max_value=PAIRS_MAX_CANDLES,
                                     default=PAIRS_DEFAULT_LIMIT)  # fmt: skip

    def validate(self, attrs: dict) -> dict:
        if "start" in attrs and "end" in attrs and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": ["start is after end."]})
        attrs["interval"] = INTERVALS[attrs["interval"]]
        return attrs


class CorrelationQuerySerializer(serializers.Serializer):
    symbols = serializers.CharField(
        max_length=CORRELATION_MAX_SYMBOLS * 33, help_text="2 to 50 symbols, comma-separated: BTCUSDT,ETHUSDT"
    )
    interval = serializers.ChoiceField(choices=list(INTERVALS), default="1h")
    window = serializers.IntegerField(
        min_value=2, max_value=PAIRS_MAX_CANDLES, default=30, help_text="Log returns (window + 1 closes) correlated."
    )

    def validate_symbols(self, value: str) -> list[str]:
        names = [name.strip().upper() for name in value.split(",") if name.strip()]
        if not 2 <= len(names) <= CORRELATION_MAX_SYMBOLS:
            raise serializers.ValidationError(f"Give 2 to {CORRELATION_MAX_SYMBOLS} symbols, not {len(names)}.")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise serializers.ValidationError(f"Each symbol once: {', '.join(repeated)} repeated.")
        return names

    def validate_interval(self, value: str):
        return INTERVALS[value]


def _floats(help_text: str):
    return serializers.ListField(child=serializers.FloatField(allow_null=True), help_text=help_text)


class PairsSerializer(serializers.Serializer):
    a = serializers.CharField()
    b = serializers.CharField()
    interval = serializers.CharField()
    window = serializers.IntegerField()
    open_times = serializers.ListField(child=serializers.IntegerField(), help_text="Epoch ms, oldest first.")
    alpha = serializers.FloatField(help_text="Intercept of log(a) on log(b), OLS over the range.")
    beta = serializers.FloatField(help_text="Hedge ratio: slope of log(a) on log(b), OLS over the range.")
    half_life = serializers.FloatField(
        allow_null=True, help_text="Of the spread's mean reversion, in candles; null when it does not revert."
    )
    adf = inline_serializer(
        "AugmentedDickeyFuller",
        {
            "statistic": serializers.FloatField(),
            "p_value": serializers.FloatField(),
            "lags": serializers.IntegerField(help_text="Lags used (chosen by AIC)."),
            "observations": serializers.IntegerField(),
            "critical_values": inline_serializer(
                "AdfCriticalValues", {level: serializers.FloatField() for level in ("1%", "5%", "10%")}
            ),
        },
        help_text="statsmodels' adfuller of the spread (constant, lags by AIC).",
    )
    spread = serializers.ListField(child=serializers.FloatField(), help_text="log(a) - beta * log(b) - alpha.")
    hedge_ratio_rolling = _floats(
        "OLS slope over the `window` candles ending at each; null until full or if b is flat."
    )
    zscore = _floats("(spread - mean) / sample std of the spread over the `window` candles ending at each.")
    correlation = _floats("Of log returns over the `window` returns ending at each (first from candle window + 1).")


class CorrelationSerializer(serializers.Serializer):
    symbols = serializers.ListField(child=serializers.CharField(), help_text="Rows and columns of `matrix`.")
    interval = serializers.CharField()
    window = serializers.IntegerField()
    start = serializers.IntegerField(help_text="Open time (epoch ms) of the first close used.")
    end = serializers.IntegerField(help_text="Open time (epoch ms) of the last close used.")
    matrix = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()), help_text="Pearson correlations of log returns."
    )
