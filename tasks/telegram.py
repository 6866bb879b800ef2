"""Telegram bot tasks, on the `notifications` queue. The webhook answers Telegram at once and queues
`handle_update`; it does what the update asks and queues one `reply` per Bot API call of the answer, so that a
reply Telegram refuses for now is retried without doing the command twice.
"""

import logging
from typing import Any

from django.db import OperationalError, transaction
from django.utils import timezone

from apps.telegram.bot import update_handle
from apps.telegram.client import TelegramError
from apps.telegram.services import telegram_prune, telegram_reply, update_claim
from config.celery import app

logger = logging.getLogger(__name__)

REPLY_MAX_RETRIES = 5
REPLY_BACKOFF_CAP_SECONDS = 60


@app.task(name="telegram.handle_update", autoretry_for=(OperationalError,), retry_backoff=1, max_retries=5)
def handle_update(update: dict[str, Any]) -> None:
    # The claim and the command commit together: a redelivered task finds the update claimed and does nothing,
    # and one that failed on the database leaves it unclaimed for its retry.
    with transaction.atomic():
        if not update_claim(update_id=update["update_id"]):
            return
        for call in update_handle(update=update):
            # Robust: one reply that cannot be queued (or, run in-process, fails) does not hold back the others.
            transaction.on_commit(lambda call=call: reply.delay(call.method, call.kwargs), robust=True)


@app.task(name="telegram.reply", bind=True, max_retries=REPLY_MAX_RETRIES)
def reply(self, method: str, kwargs: dict[str, Any]) -> None:
    try:
        telegram_reply(method=method, kwargs=kwargs)
    except TelegramError as error:
        if error.permanent:  # the user blocked the bot, the message is gone: nobody is left to answer
            logger.warning("telegram reply %s dropped: %s", method, error)
            return
        countdown = error.retry_after or min(REPLY_BACKOFF_CAP_SECONDS, 2**self.request.retries)
        raise self.retry(exc=error, countdown=countdown) from error


@app.task(name="telegram.prune")
def prune() -> None:
    """Forget webhook updates Telegram can no longer re-send, and link codes long expired (daily)."""
    telegram_prune(now=timezone.now())
