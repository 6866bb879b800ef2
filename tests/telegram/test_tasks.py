"""The bot's tasks, run in-process (retries over a real worker are in test_workers.py): a reply Telegram refuses
for good is dropped, an update is handled once even when its task is delivered twice, old records are pruned."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.telegram.models import ProcessedUpdate, TelegramLinkCode
from apps.telegram.services import update_accept
from tasks.telegram import handle_update, prune, reply
from tests.telegram.conftest import STRANGER_CHAT

pytestmark = pytest.mark.django_db


def test_a_reply_to_a_chat_that_blocked_the_bot_is_dropped(fake_telegram):
    fake_telegram.blocked.add(STRANGER_CHAT)

    reply.delay("send_message", {"chat_id": STRANGER_CHAT, "text": "hi"})

    assert [request.status for request in fake_telegram.requests] == [403]


def test_an_update_task_delivered_twice_answers_once(fake_telegram, django_capture_on_commit_callbacks):
    update = {"update_id": 77, "message": {"message_id": 1, "chat": {"id": STRANGER_CHAT}, "text": "/help"}}
    update_accept(update_id=77)

    with django_capture_on_commit_callbacks(execute=True):
        handle_update.delay(update)
        handle_update.delay(update)

    assert len(fake_telegram.texts_to(STRANGER_CHAT)) == 1


def test_prune_forgets_old_updates_and_long_expired_codes(alice):
    now = timezone.now()
    ProcessedUpdate.objects.create(update_id=1, received_at=now - timedelta(days=3))
    ProcessedUpdate.objects.create(update_id=2, received_at=now - timedelta(hours=1))
    TelegramLinkCode.objects.create(user=alice, code="old", expires_at=now - timedelta(days=2))
    TelegramLinkCode.objects.create(user=alice, code="recent", expires_at=now - timedelta(hours=1))

    prune.delay()

    assert list(ProcessedUpdate.objects.values_list("update_id", flat=True)) == [2]
    assert list(TelegramLinkCode.objects.values_list("code", flat=True)) == ["recent"]
