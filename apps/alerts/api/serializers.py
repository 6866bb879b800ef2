import copy

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.settings import api_settings

from apps.alerts.models import AlertDelivery, AlertEvent, AlertRule, Watchlist
from apps.market.models import Symbol


class WatchlistSerializer(serializers.ModelSerializer):
    symbols = serializers.SlugRelatedField(
        slug_field="symbol", queryset=Symbol.objects.all(), many=True, help_text="Symbols, e.g. BTCUSDT."
    )

    class Meta:
        model = Watchlist
        fields = ["id", "name", "symbols", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_name(self, name: str) -> str:
        owner = self.context["request"].user
        taken = Watchlist.objects.filter(owner=owner, name=name).exclude(pk=getattr(self.instance, "pk", None))
        if taken.exists():
            raise serializers.ValidationError("You already have a watchlist of this name.")
        return name


class AlertRuleSerializer(serializers.ModelSerializer):
    symbol = serializers.SlugRelatedField(
        slug_field="symbol", queryset=Symbol.objects.all(), allow_null=True, required=False,
        help_text="target=symbol: the symbol, e.g. BTCUSDT.",
    )  # fmt: skip
    watchlist = serializers.PrimaryKeyRelatedField(
        queryset=Watchlist.objects.none(), allow_null=True, required=False, help_text="target=watchlist: its id."
    )
    pair_symbol = serializers.SlugRelatedField(
        slug_field="symbol", queryset=Symbol.objects.all(), allow_null=True, required=False,
        help_text="kind=pair_zscore: the pair's other leg, e.g. ETHUSDT.",
    )  # fmt: skip
    description = serializers.CharField(source="describe", read_only=True, help_text="The condition in words.")

    class Meta:
        model = AlertRule
        fields = ["id", "name", "target", "symbol", "watchlist", "kind", "value", "window_minutes", "field", "operator",
                  "strategy", "pair_symbol", "pair_timeframe", "pair_window", "description", "cooldown_seconds",
                  "one_time", "is_active", "telegram", "websocket", "webhook_url", "last_fired_at", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["id", "last_fired_at", "created_at", "updated_at"]

    def get_fields(self) -> dict:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["watchlist"].queryset = Watchlist.objects.filter(owner=request.user)  # another's is "not found"
        return fields

    def validate(self, attrs: dict) -> dict:
        """The model's own validation (each field, then target, condition and channels together) of the rule as it
        would be saved."""
        rule = copy.copy(self.instance) if self.instance else AlertRule(owner=self.context["request"].user)
        for name, value in attrs.items():
            setattr(rule, name, value)
        try:
            rule.full_clean()
        except DjangoValidationError as error:
            errors = {api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name: messages
                      for name, messages in error.message_dict.items()}  # fmt: skip
            raise serializers.ValidationError(errors) from None
        return attrs


class AlertDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertDelivery
        fields = ["channel", "destination", "status", "attempts", "error", "sent_at"]


class AlertEventSerializer(serializers.ModelSerializer):
    symbol = serializers.SlugRelatedField(slug_field="symbol", read_only=True)
    deliveries = AlertDeliverySerializer(many=True, read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["id", "rule", "symbol", "message", "values", "created_at", "deliveries"]
