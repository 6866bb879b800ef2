from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.telegram.client import Keyboard, TelegramBot
from apps.telegram.models import ProcessedUpdate, TelegramChat, TelegramLinkCode

# What the bot asks Telegram to deliver to its webhook: what apps.telegram.bot handles.
ALLOWED_UPDATES = ("message", "callback_query")
# Telegram keeps an update it could not deliver for 24 hours: an older id cannot come again.
PROCESSED_UPDATES_KEPT = timedelta(days=2)
# An expired code is kept a day, so that `/start` with it says "expired" rather than "unknown".
EXPIRED_CODES_KEPT = timedelta(days=1)


class LinkRefused(Exception):
    """The code cannot link a chat; the message says why, in words for the user."""


def telegram_send(chat_id: int, text: str, *, buttons: Keyboard | None = None) -> int:
    """Send `text` (plain text, cut at 4096 characters) with optional inline buttons to a chat; the message id.

    The delivery entry point: waits for the chat's slot in the shared send limiter, then sends once. Raises
    TelegramError: `permanent` (the user blocked the bot, the chat is gone) or transient, with `retry_after` in
    seconds when Telegram asked to wait (retry no sooner).
    """
    with TelegramBot() as bot:
        return bot.send_message(chat_id, text, buttons=buttons)["message_id"]


# What the bot's replies may do (apps.telegram.bot.Call): the methods of TelegramBot that answer a user.
REPLY_METHODS = ("send_message", "answer_callback_query", "edit_message_reply_markup")


def telegram_reply(*, method: str, kwargs: dict[str, Any]) -> None:
    if method not in REPLY_METHODS:
        raise ValueError(f"{method!r} is not a reply method")
    with TelegramBot() as bot:
        getattr(bot, method)(**kwargs)


def webhook_set(*, url: str) -> None:
    """Have Telegram deliver the bot's updates to `url`, with TELEGRAM_WEBHOOK_SECRET in each request's
    X-Telegram-Bot-Api-Secret-Token header."""
    with TelegramBot() as bot:
        bot.set_webhook(url, secret_token=settings.TELEGRAM_WEBHOOK_SECRET, allowed_updates=ALLOWED_UPDATES)


def link_code_create(*, user: AbstractBaseUser) -> TelegramLinkCode:
    return TelegramLinkCode.objects.create(user=user)


def chat_link(*, chat_id: int, code: str) -> AbstractBaseUser:
    """Link the chat to the user of a one-time code (replacing any user it was linked to); the user."""
    now = timezone.now()
    link = TelegramLinkCode.objects.select_related("user").filter(code=code).first()
    if link is None:
        raise LinkRefused("This code is unknown: create a new one in the app.")
    if link.used_at is not None:
        raise LinkRefused("This code was already used: create a new one in the app.")
    if link.expires_at <= now:
        raise LinkRefused("This code has expired: create a new one in the app.")
    with transaction.atomic():
        # Two chats sending the same code at once: the row count says which one took it.
        taken = TelegramLinkCode.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
        if not taken:
            raise LinkRefused("This code was already used: create a new one in the app.")
        TelegramChat.objects.update_or_create(
            chat_id=chat_id, defaults={"user": link.user, "linked_at": now, "muted_until": None}
        )
    return link.user


def update_accept(*, update_id: int) -> bool:
    """Record a webhook update; False when it was already received (Telegram re-sends until it gets a 200)."""
    try:
        with transaction.atomic():
            ProcessedUpdate.objects.create(update_id=update_id)
    except IntegrityError:
        return False
    return True


def update_claim(*, update_id: int) -> bool:
    """Mark an accepted update as being handled; False when it already was (a redelivered task)."""
    return bool(
        ProcessedUpdate.objects.filter(update_id=update_id, handled_at__isnull=True).update(handled_at=timezone.now())
    )


def telegram_prune(*, now: datetime) -> None:
    ProcessedUpdate.objects.filter(received_at__lt=now - PROCESSED_UPDATES_KEPT).delete()
    TelegramLinkCode.objects.filter(expires_at__lt=now - EXPIRED_CODES_KEPT).delete()
