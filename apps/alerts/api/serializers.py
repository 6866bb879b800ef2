from rest_framework import serializers

from apps.alerts.models import Watchlist
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
