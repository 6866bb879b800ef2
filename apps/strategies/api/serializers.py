from datetime import datetime

from rest_framework import serializers

from apps.indicators.models import Timeframe
from apps.market.api.serializers import EpochOrIsoTimeField
from apps.market.intervals import datetime_from_ms
from apps.market.models import Symbol
from apps.strategies.models import Signal, Strategy
from apps.strategies.validation import definition_errors


class StrategySerializer(serializers.ModelSerializer):
    class Meta:
        model = Strategy
        fields = ["id", "name", "description", "timeframe", "conditions", "parameters", "is_active", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate(self, attrs: dict) -> dict:
        # A PATCH may change either: the two are checked together, as stored after it.
        errors = definition_errors(
            conditions=attrs.get("conditions", getattr(self.instance, "conditions", None)),
            parameters=attrs.get("parameters", getattr(self.instance, "parameters", {})),
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class SignalSerializer(serializers.ModelSerializer):
    """As the `signals` stream carries them (apps.strategies.selectors.signal_data)."""

    symbol = serializers.SlugRelatedField(slug_field="symbol", read_only=True)
    strategy_name = serializers.CharField(source="strategy.name", read_only=True)

    class Meta:
        model = Signal
        fields = ["id", "symbol", "strategy", "strategy_name", "timeframe", "open_time", "candle_closed", "values",
                  "created_at"]  # fmt: skip


class SignalQuerySerializer(serializers.Serializer):
    symbol = serializers.CharField(required=False, max_length=32, help_text="e.g. BTCUSDT")
    strategy = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="Strategy id.")
    timeframe = serializers.ChoiceField(required=False, choices=Timeframe.choices)
    since = EpochOrIsoTimeField(required=False, help_text="Signals created at or after this time.")

    def validate_symbol(self, symbol: str) -> int:
        found = Symbol.objects.filter(symbol=symbol.upper()).values_list("id", flat=True).first()
        if found is None:
            raise serializers.ValidationError(f"Unknown symbol {symbol!r}.")
        return found

    def validate_strategy(self, strategy_id: int) -> int:
        if not Strategy.objects.filter(id=strategy_id).exists():
            raise serializers.ValidationError(f"No strategy {strategy_id}.")
        return strategy_id

    def validate_since(self, since_ms: int) -> datetime:
        return datetime_from_ms(since_ms)
