from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from apps.market.models import Candle, ExchangeGap, Symbol


@admin.register(Symbol)
class SymbolAdmin(admin.ModelAdmin):
    list_display = (
        "symbol",
        "status",
        "is_active",
        "is_derived",
        "quote_volume_24h",
        "last_candle_at",
        "listed_at",
        "tick_size",
        "step_size",
    )
    list_filter = ("is_active", "status", "quote_asset", "is_derived")
    list_editable = ("is_active",)
    search_fields = ("symbol", "base_asset")
    readonly_fields = ("base_asset", "quote_asset", "status", "tick_size", "step_size", "listed_at", "synced_at")
    actions = ("activate", "deactivate")
    ordering = ("symbol",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Symbol]:
        # One primary-key index probe per listed row, not a scan of the candle table.
        newest = Candle.objects.filter(symbol=OuterRef("pk")).order_by("-open_time").values("open_time")[:1]
        return super().get_queryset(request).annotate(last_candle_at=Subquery(newest))

    def has_delete_permission(self, request: HttpRequest, obj: Symbol | None = None) -> bool:
        return False  # candles keep the symbol's id for ever; deactivate instead

    @admin.display(description="Last candle", ordering="last_candle_at")
    def last_candle_at(self, symbol: Symbol):
        return symbol.last_candle_at

    @admin.action(description="Activate: stream, backfill and analyse")
    def activate(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        count = queryset.update(is_active=True)
        self.message_user(request, f"{count} symbol(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        count = queryset.update(is_active=False)
        self.message_user(request, f"{count} symbol(s) deactivated.", messages.SUCCESS)


@admin.register(ExchangeGap)
class ExchangeGapAdmin(admin.ModelAdmin):
    list_display = ("symbol", "start", "end", "found_at")
    list_filter = ("symbol",)
    date_hierarchy = "start"
    list_select_related = ("symbol",)
