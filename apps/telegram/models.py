import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

LINK_CODE_TTL = timedelta(minutes=10)


def new_link_code() -> str:
    # URL-safe base64, which Telegram's deep links (t.me/<bot>?start=CODE) carry as they are.
    return secrets.token_urlsafe(12)


def link_code_expiry() -> datetime:
    return timezone.now() + LINK_CODE_TTL


class TelegramChat(models.Model):
    """A private chat with the bot, linked to a user: where their alerts go and whose alerts its commands act on.
    A private chat's id is the Telegram user's own id."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telegram_chats")
    chat_id = models.BigIntegerField(unique=True)
    linked_at = models.DateTimeField(default=timezone.now)
    muted_until = models.DateTimeField(null=True, blank=True, help_text="No alerts are delivered here until then.")

    def __str__(self) -> str:
        return f"{self.chat_id} ({self.user})"


class TelegramLinkCode(models.Model):
    """A one-time code that links the chat which sends `/start CODE` to `user`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=32, unique=True, default=new_link_code, editable=False)
    expires_at = models.DateTimeField(default=link_code_expiry, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.code


class ProcessedUpdate(models.Model):
    """A webhook update already accepted: Telegram re-sends an update until it gets a 200, and each is handled once.
    The update id is the primary key, so one index serves both the duplicate check and the lookups."""

    update_id = models.BigIntegerField(primary_key=True)
    received_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return str(self.update_id)
