from django.contrib import admin

from apps.telegram.models import TelegramChat, TelegramLinkCode


@admin.register(TelegramChat)
class TelegramChatAdmin(admin.ModelAdmin):
    list_display = ["chat_id", "user", "linked_at", "muted_until"]
    search_fields = ["chat_id", "user__username"]
    raw_id_fields = ["user"]


@admin.register(TelegramLinkCode)
class TelegramLinkCodeAdmin(admin.ModelAdmin):
    """Adding one (pick the user) creates a code valid for 10 minutes; the user sends `/start CODE` to the bot."""

    list_display = ["code", "user", "expires_at", "used_at"]
    search_fields = ["code", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["code", "expires_at", "used_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
