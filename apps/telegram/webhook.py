"""The webhook Telegram posts the bot's updates to (`manage.py telegram_set_webhook` registers it). It checks the
secret Telegram sends with each request, records the update id (Telegram re-sends an update until it gets a 200)
and answers at once; tasks/telegram.py does the work."""

import hmac
import json
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.telegram.services import update_accept
from tasks.telegram import handle_update

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# ProcessedUpdate records the id in a bigint.
UPDATE_ID_RANGE = range(-(2**63), 2**63)


def _secret_matches(request: HttpRequest) -> bool:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get(SECRET_HEADER, "")
    # Without a configured secret nothing matches: an empty header must not pass as the empty secret.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _is_update(update: object) -> bool:
    return isinstance(update, dict) and type(update.get("update_id")) is int and update["update_id"] in UPDATE_ID_RANGE


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    if not _secret_matches(request):
        logger.warning("telegram webhook: request without the right secret from %s", request.META.get("REMOTE_ADDR"))
        return HttpResponseForbidden()
    try:
        update = json.loads(request.body)
    except (ValueError, RecursionError) as error:  # RecursionError: JSON nested thousands deep
        logger.warning("telegram webhook: body is not JSON (%s): %r", error, request.body[:200])
        return HttpResponseBadRequest("not JSON")
    if not _is_update(update):
        logger.warning("telegram webhook: not an update: %r", request.body[:200])
        return HttpResponseBadRequest("not an update: an object with an integer update_id (64 bits)")
    if update_accept(update_id=update["update_id"]):
        # Robust: the update is recorded, so Telegram re-sending it could not help; whatever went wrong in queueing
        # it (or, on the embedded default, in running it here) is logged and Telegram gets its 200.
        transaction.on_commit(lambda: handle_update.delay(update), robust=True)
    return HttpResponse()
