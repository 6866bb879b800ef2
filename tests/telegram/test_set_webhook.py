"""`manage.py telegram_set_webhook URL` against the fake Telegram."""

import pytest
from django.core.management import CommandError, call_command

from tests.telegram.conftest import SECRET

URL = "https://screener.example.com/telegram/webhook/"


def test_it_registers_the_url_with_the_secret_and_the_updates_the_bot_handles(fake_telegram, capsys):
    call_command("telegram_set_webhook", URL)

    assert fake_telegram.webhook == {
        "url": URL,
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }
    assert capsys.readouterr().out == f"webhook set to {URL}\n"


def test_it_refuses_to_register_without_a_secret(fake_telegram, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""

    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET"):
        call_command("telegram_set_webhook", URL)

    assert fake_telegram.requests == []


def test_telegrams_refusal_is_shown(fake_telegram):
    with pytest.raises(CommandError, match="An HTTPS URL must be provided"):
        call_command("telegram_set_webhook", "http://screener.example.com/telegram/webhook/")
