from django.contrib import admin
from django.http import HttpRequest

from apps.strategies.models import Signal, Strategy


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    """Conditions and parameters are edited as JSON; the model's clean() says what is wrong and where."""

    list_display = ("name", "timeframe", "is_active", "updated_at")
    list_filter = ("timeframe", "is_active")
    list_editable = ("is_active",)
    search_fields = ("name", "description")
    readonly_fields = ("created_at", "updated_at")


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    """Read-only: signals are what the strategies found."""

    list_display = ("created_at", "symbol", "strategy", "timeframe", "open_time", "candle_closed")
    list_filter = ("strategy", "timeframe", "candle_closed")
    search_fields = ("symbol__symbol",)
    list_select_related = ("symbol", "strategy")
    date_hierarchy = "created_at"
    readonly_fields = ("symbol", "strategy", "timeframe", "open_time", "candle_closed", "values", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Signal | None = None) -> bool:
        return False
