"""The fake Telegram's chat side, which `make demo` offers people: what they write reaches the bot's webhook as an
update, and what the bot answers can be read back."""

import httpx
import pytest

from tests.telegram.conftest import SECRET, WEBHOOK

pytestmark = pytest.mark.django_db(transaction=True)  # the webhook answers from the live server's thread


def test_a_person_writing_in_a_chat_gets_the_bots_answer(fake_telegram, live_server):
    fake_telegram.webhook = {"url": f"{live_server.url}{WEBHOOK}", "secret_token": SECRET}

    written = httpx.post(f"{fake_telegram.url}/chat/7001", data={"text": "/help"}).json()

    assert written == {"ok": True, "webhook_status": 200}
    [answer] = httpx.get(f"{fake_telegram.url}/chat/7001").json()
    assert "/price" in answer["text"]


def test_writing_needs_a_webhook(fake_telegram):
    assert httpx.post(f"{fake_telegram.url}/chat/7001", data={"text": "/help"}).status_code == 400
