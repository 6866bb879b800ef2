from django.contrib import admin
from django.db import models

from apps.alerts.models import AlertDelivery, AlertEvent, AlertRule, Watchlist
from apps.market.admin import ReadOnlyAdmin


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    list_filter = ["owner"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["symbols"]
    raw_id_fields = ["owner"]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["id", "__str__", "owner", "target", "symbol", "describe", "is_active", "one_time", "last_fired_at"]
    list_filter = ["kind", "target", "is_active", "one_time"]
    search_fields = ["name", "owner__username", "symbol__symbol", "strategy", "field"]
    raw_id_fields = ["owner", "symbol", "watchlist"]
    readonly_fields = ["last_fired_at", "created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="condition")
    def describe(self, rule: AlertRule) -> str:
        return rule.describe()


class AlertDeliveryInline(admin.TabularInline):
    model = AlertDelivery
    fields = ["channel", "destination", "status", "attempts", "error", "claimed_at", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertEvent)
class AlertEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "symbol", "message"]
    list_filter = ["created_at"]
    search_fields = ["message", "user__username", "symbol__symbol"]
    list_select_related = ["user", "symbol"]
    inlines = [AlertDeliveryInline]
