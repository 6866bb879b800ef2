from django.contrib import admin

from apps.alerts.models import Watchlist


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    list_filter = ["owner"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["symbols"]
    raw_id_fields = ["owner"]
