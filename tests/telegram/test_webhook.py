"""The webhook: only Telegram (which knows the secret) gets in, bodies are checked, each update is handled once,
and the answer goes back through the Bot API."""

import logging

import pytest

from apps.telegram.models import ProcessedUpdate
from tests.telegram.conftest import SECRET, STRANGER_CHAT, WEBHOOK, post_update

pytestmark = pytest.mark.django_db


def help_update(update_id: int) -> dict:
    chat = {"id": STRANGER_CHAT, "type": "private"}
    return {"update_id": update_id, "message": {"message_id": 1, "date": 0, "chat": chat, "text": "/help"}}


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_a_request_without_the_right_secret_is_refused(client, fake_telegram, secret):
    response = post_update(client, help_update(1), secret=secret)

    assert response.status_code == 403
    assert not ProcessedUpdate.objects.exists()


def test_without_a_configured_secret_every_request_is_refused(client, fake_telegram, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""

    assert post_update(client, help_update(1), secret="").status_code == 403


def test_a_body_that_is_not_json_is_a_400_and_logged(client, fake_telegram, caplog):
    with caplog.at_level(logging.WARNING, logger="apps.telegram.webhook"):
        response = client.post(WEBHOOK, "{not json", content_type="application/json",
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})  # fmt: skip

    assert response.status_code == 400
    assert "not JSON" in caplog.text


@pytest.mark.parametrize("body", [[1, 2], {"message": {}}, {"update_id": "12"}, {"update_id": True},
                                  {"update_id": 2**70}])  # fmt: skip
def test_json_that_is_not_an_update_is_a_400(client, fake_telegram, body):
    assert post_update(client, body).status_code == 400
    assert not ProcessedUpdate.objects.exists()


def test_json_nested_too_deep_to_read_is_a_400(client, fake_telegram):
    response = client.post(WEBHOOK, "[" * 100_000, content_type="application/json",
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})  # fmt: skip

    assert response.status_code == 400


UNREADABLE = {
    "message not an object": {"message": "/help"},
    "chat not an object": {"message": {"message_id": 1, "chat": [STRANGER_CHAT], "text": "/help"}},
    "callback_query not an object": {"callback_query": 7},
    "button's message not an object": {"callback_query": {"id": "1", "message": "x", "data": "mute:1"}},
}


@pytest.mark.parametrize("update", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_update_with_parts_of_the_wrong_type_is_accepted_logged_and_ignored(
    client, fake_telegram, django_capture_on_commit_callbacks, caplog, update
):
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = post_update(client, {"update_id": 9, **update})

    assert response.status_code == 200
    assert ProcessedUpdate.objects.get().handled_at is not None, "handled, not left for a retry"
    assert [(record.name, record.getMessage().split(":")[0]) for record in caplog.records] == [
        ("apps.telegram.bot", "telegram update 9 ignored")
    ]
    assert fake_telegram.requests == []
