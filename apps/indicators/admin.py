from django.contrib import admin
from django.http import HttpRequest

from apps.indicators.models import Snapshot


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    """Read-only: snapshots are the engine's output, rewritten at every candle close."""

    list_display = ("symbol", "timeframe", "open_time", "candle_closed", "computed_at")
    list_filter = ("timeframe", "candle_closed")
    search_fields = ("symbol__symbol",)
    list_select_related = ("symbol",)
    readonly_fields = ("symbol", "timeframe", "open_time", "candle_closed", "values", "computed_at", "state_open_time",
                       "state")  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Snapshot | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Snapshot | None = None) -> bool:
        return False
