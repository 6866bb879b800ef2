"""The Bot API client against the fake Telegram: what it sends, and what each of Telegram's errors means."""

from collections.abc import Iterator

import pytest

from apps.telegram.client import MAX_TEXT_LENGTH, TelegramBot, TelegramError
from apps.telegram.ratelimit import MemorySlotStore, SendLimiter
from apps.telegram.services import telegram_send
from fakes.telegram_server import FakeTelegram
from tests.telegram.clock import FakeClock

CHAT = 42


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bot(fake, clock) -> Iterator[TelegramBot]:
    limiter = SendLimiter(MemorySlotStore(), per_second=30, per_chat_per_second=1, clock=clock, sleep=clock.sleep)
    with TelegramBot(token=fake.token, base_url=fake.url, limiter=limiter) as client:
        yield client


def test_a_message_arrives_with_its_buttons(bot, fake):
    sent = bot.send_message(CHAT, "BTCUSDT above 100000", buttons=[[("Mute", "mute:7"), ("Delete", "delete:7")]])

    assert fake.texts_to(CHAT) == ["BTCUSDT above 100000"]
    assert fake.messages[0].reply_markup == {
        "inline_keyboard": [
            [{"text": "Mute", "callback_data": "mute:7"}, {"text": "Delete", "callback_data": "delete:7"}]
        ]
    }
    assert sent["message_id"] == fake.messages[0].message_id


def test_a_text_too_long_for_telegram_is_cut_to_its_limit(bot, fake):
    bot.send_message(CHAT, "x" * 5000)

    assert len(fake.texts_to(CHAT)[0]) == MAX_TEXT_LENGTH


def test_flood_control_is_a_transient_error_carrying_retry_after(bot, fake):
    fake.fail_next(1, 429, retry_after=17)

    with pytest.raises(TelegramError) as failure:
        bot.send_message(CHAT, "hi")

    assert (failure.value.permanent, failure.value.code, failure.value.retry_after) == (False, 429, 17)


def test_after_flood_control_the_next_message_to_that_chat_waits_retry_after(bot, fake, clock):
    fake.fail_next(1, 429, retry_after=17)
    with pytest.raises(TelegramError):
        bot.send_message(CHAT, "first")

    bot.send_message(CHAT, "again")
    bot.send_message(CHAT + 1, "another chat")

    assert clock.slept == [17]
    assert fake.texts_to(CHAT) == ["again"]


@pytest.mark.parametrize("status", [500, 502])
def test_server_errors_are_transient(bot, fake, status):
    fake.fail_next(1, status)

    with pytest.raises(TelegramError) as failure:
        bot.send_message(CHAT, "hi")

    assert not failure.value.permanent
    assert failure.value.retry_after is None


def test_a_chat_that_blocked_the_bot_is_a_permanent_error(bot, fake):
    fake.blocked.add(CHAT)

    with pytest.raises(TelegramError) as failure:
        bot.send_message(CHAT, "hi")

    assert (failure.value.permanent, failure.value.code) == (True, 403)
    assert "blocked by the user" in str(failure.value)


def test_a_chat_that_does_not_exist_is_a_permanent_error(bot, fake):
    fake.missing.add(CHAT)

    with pytest.raises(TelegramError) as failure:
        bot.send_message(CHAT, "hi")

    assert (failure.value.permanent, failure.value.code) == (True, 400)
    assert "chat not found" in str(failure.value)


def test_a_wrong_token_is_a_permanent_error_that_does_not_show_the_token(fake):
    with TelegramBot(token="1:wrong", base_url=fake.url) as bot, pytest.raises(TelegramError) as failure:
        bot.send_message(CHAT, "hi")

    assert (failure.value.permanent, failure.value.code) == (True, 401)
    assert "wrong" not in str(failure.value)


def test_an_unreachable_api_is_a_transient_error():
    with TelegramBot(token="1:x", base_url="http://127.0.0.1:9") as bot, pytest.raises(TelegramError) as failure:
        bot.send_message(CHAT, "hi")

    assert not failure.value.permanent


def test_without_a_token_nothing_can_be_sent(settings):
    settings.TELEGRAM_BOT_TOKEN = ""

    with pytest.raises(TelegramError) as failure:
        telegram_send(CHAT, "hi")

    assert failure.value.permanent


def test_a_notice_answers_a_pressed_button(bot, fake):
    assert bot.answer_callback_query("q1", text="alert 7 muted") is True

    assert fake.notices == [{"callback_query_id": "q1", "text": "alert 7 muted"}]


def test_a_messages_buttons_are_removed(bot, fake):
    sent = bot.send_message(CHAT, "alert", buttons=[[("Mute", "mute:7")]])

    bot.edit_message_reply_markup(CHAT, sent["message_id"])

    assert fake.messages[0].reply_markup is None


def test_telegram_send_delivers_through_the_configured_bot(fake_telegram):
    message_id = telegram_send(CHAT, "ETHUSDT below 3000", buttons=[[("Delete", "delete:3")]])

    assert fake_telegram.messages[0].message_id == message_id
    assert fake_telegram.messages[0].reply_markup["inline_keyboard"][0][0]["callback_data"] == "delete:3"
