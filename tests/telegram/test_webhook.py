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


@pytest.mark.parametrize("body", [[1, 2], {"message": {}}, {"update_id": "12"}, {"update_id": True}])
def test_json_that_is_not_an_update_is_a_400(client, fake_telegram, body):
    assert post_update(client, body).status_code == 400


def test_only_post_is_allowed(client, fake_telegram):
    assert client.get(WEBHOOK, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code == 405


def test_an_update_is_answered_through_the_bot_api(client, fake_telegram, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_update(client, help_update(1))

    assert response.status_code == 200
    assert fake_telegram.texts_to(STRANGER_CHAT)[0].startswith("Commands:")


def test_an_update_sent_again_is_handled_once(client, fake_telegram, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_update(client, help_update(1))
        again = post_update(client, help_update(1))

    assert (first.status_code, again.status_code) == (200, 200), "a 200 stops Telegram re-sending it"
    assert len(fake_telegram.texts_to(STRANGER_CHAT)) == 1


def test_updates_the_bot_does_not_handle_are_accepted_and_ignored(
    client, fake_telegram, django_capture_on_commit_callbacks
):
    edited = {"update_id": 5, "edited_message": {"message_id": 1, "chat": {"id": STRANGER_CHAT}, "text": "/help"}}
    sticker = {"update_id": 6, "message": {"message_id": 2, "chat": {"id": STRANGER_CHAT}, "sticker": {}}}

    with django_capture_on_commit_callbacks(execute=True):
        responses = [post_update(client, edited), post_update(client, sticker)]

    assert [response.status_code for response in responses] == [200, 200]
    assert fake_telegram.requests == []
