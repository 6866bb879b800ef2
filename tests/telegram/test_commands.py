"""What the bot answers to each command, in a chat linked to Alice or in a stranger's."""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.market.live import live_tickers_set
from apps.market.services.candles import candles_upsert
from apps.telegram.alert_commands import AlertsUnavailable, alert_buttons, alert_commands_register
from apps.telegram.bot import HELP, LINK_FIRST
from apps.telegram.services import telegram_send
from tests.market.factories import SymbolFactory
from tests.telegram.conftest import ALICE_CHAT

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]


@pytest.fixture(autouse=True)
def no_live_tickers(settings):
    # Live tickers live in the cache, which outlives each test's transaction.
    from django.core.cache import cache

    cache.clear()


def ticker(symbol: str, *, price: str, day_open: str) -> dict:
    return {"symbol": symbol, "event_time": int(time.time() * 1000), "c": price, "o": day_open, "h": price,
            "l": price, "v": "1", "q": "1"}  # fmt: skip


def candle(symbol, open_time: datetime, *, open_: str, close: str) -> None:
    low, high = sorted([open_, close], key=Decimal)
    candles_upsert(rows=[(symbol.id, int(open_time.timestamp() * 1000), open_, high, low, close, "1", "1", 1, "0",
                          "0")])  # fmt: skip


# -- open to everyone


def test_help_lists_the_commands(stranger):
    assert stranger.say("/help") == HELP


def test_start_without_a_code_explains_how_to_link(stranger):
    assert "send /start CODE" in stranger.say("/start")


def test_price_answers_the_live_price_and_24h_change(stranger):
    SymbolFactory(symbol="BTCUSDT")
    live_tickers_set({"BTCUSDT": ticker("BTCUSDT", price="101000.00000000", day_open="100000.00000000")})

    assert stranger.say("/price btcusdt") == "BTCUSDT 101000, +1.00% in 24h"


def test_without_a_live_ticker_price_answers_from_the_last_stored_candle(stranger):
    eth = SymbolFactory(symbol="ETHUSDT")
    last = datetime(2025, 1, 2, 12, 0, tzinfo=UTC)
    candle(eth, last - timedelta(hours=24) + timedelta(minutes=1), open_="4000", close="4010")
    candle(eth, last, open_="3900", close="3800.5")

    assert stranger.say("/price ETHUSDT") == "ETHUSDT 3800.5, -4.99% in 24h (last stored candle, 2025-01-02 12:01 UTC)"


def test_a_symbol_without_a_day_of_candles_has_no_24h_change(stranger):
    eth = SymbolFactory(symbol="ETHUSDT")
    candle(eth, datetime(2025, 1, 2, 12, 0, tzinfo=UTC), open_="3900", close="3800")

    assert stranger.say("/price ETHUSDT").startswith("ETHUSDT 3800, 24h change unknown")


def test_a_symbol_with_nothing_stored_has_no_price_yet(stranger):
    SymbolFactory(symbol="NEWUSDT")

    assert stranger.say("/price NEWUSDT") == "No price for NEWUSDT yet."


def test_price_of_an_unknown_symbol_says_so(stranger):
    assert stranger.say("/price NOPEUSDT") == "Unknown symbol NOPEUSDT: not a pair on this screener."


@pytest.mark.parametrize("text", ["/price", "/price BTC USDT", "/price BTC-USDT"])
def test_price_without_one_symbol_shows_its_usage(stranger, text):
    assert stranger.say(text).startswith("Usage: /price SYMBOL")


def test_top_lists_the_biggest_gainers_and_losers(stranger):
    moves = {"AUSDT": "110", "BUSDT": "95", "CUSDT": "101", "DUSDT": "80", "EUSDT": "100"}
    for symbol in moves:
        SymbolFactory(symbol=symbol)
    live_tickers_set({symbol: ticker(symbol, price=price, day_open="100") for symbol, price in moves.items()})

    assert stranger.say("/top").splitlines() == [
        "Top gainers (24h):", "AUSDT +10.00% 110", "CUSDT +1.00% 101", "",
        "Top losers (24h):", "DUSDT -20.00% 80", "BUSDT -5.00% 95",
    ]  # fmt: skip


def test_top_without_live_tickers_says_so(stranger):
    SymbolFactory(symbol="BTCUSDT")

    assert stranger.say("/top").startswith("No live prices right now")


def test_an_unknown_command_is_named_in_the_answer(stranger):
    assert stranger.say("/moon") == "Unknown command /moon. /help lists the commands."


def test_text_that_is_not_a_command_gets_a_pointer_to_help(stranger):
    assert stranger.say("hello bot") == "I only understand commands. /help lists them."


def test_a_command_addressed_to_the_bot_in_a_group_is_understood(stranger):
    assert stranger.say("/help@screener_test_bot") == HELP


# -- the alert commands, through the registered alerts engine


@pytest.mark.parametrize("text", ["/alert BTCUSDT > 100000", "/alerts", "/delete 7", "/mute all"])
def test_alert_commands_from_an_unlinked_chat_ask_to_link_first(stranger, alerts, text):
    assert stranger.say(text) == LINK_FIRST
    assert alerts.calls == []


def test_alert_creates_an_alert_of_the_linked_user(chat, alice_linked, alerts):
    assert chat.say("/alert btcusdt > 100000") == "alert 7: BTCUSDT > 100000"
    assert alerts.calls == [("create", "alice", "BTCUSDT", "> 100000")]


@pytest.mark.parametrize("text", ["/alert", "/alert BTCUSDT", "/alert BTC/USDT > 1"])
def test_alert_without_a_symbol_and_a_condition_shows_its_usage(chat, alice_linked, alerts, text):
    assert chat.say(text).startswith("Usage: /alert SYMBOL CONDITION")
    assert alerts.calls == []


def test_alerts_lists_the_users_alerts(chat, alice_linked, alerts):
    assert chat.say("/alerts") == "7: BTCUSDT > 100000"
    assert alerts.calls == [("list", "alice")]


def test_delete_deletes_the_alert_of_that_id(chat, alice_linked, alerts):
    assert chat.say("/delete 7") == "alert 7 deleted"
    assert alerts.calls == [("delete", "alice", 7)]


@pytest.mark.parametrize("text", ["/delete", "/delete seven", "/delete 7 8", "/delete -7"])
def test_delete_without_one_id_shows_its_usage(chat, alice_linked, alerts, text):
    assert chat.say(text).startswith("Usage: /delete ID")
    assert alerts.calls == []


def test_mute_mutes_one_alert(chat, alice_linked, alerts):
    assert chat.say("/mute 7") == "alert 7 muted"
    assert alerts.calls == [("mute", "alice", 7)]


def test_mute_all_mutes_every_alert(chat, alice_linked, alerts):
    assert chat.say("/mute all") == "all alerts muted"
    assert alerts.calls == [("mute", "alice", None)]


def test_mute_without_an_id_or_all_shows_its_usage(chat, alice_linked, alerts):
    assert chat.say("/mute").startswith("Usage: /mute ID")


def test_until_an_alerts_engine_registers_alert_commands_say_they_are_not_available(chat, alice_linked, alerts):
    alert_commands_register(AlertsUnavailable())

    assert chat.say("/alerts") == AlertsUnavailable.REPLY


# -- the buttons under an alert's message


@pytest.fixture
def alert_message(fake_telegram, alice_linked) -> int:
    return telegram_send(ALICE_CHAT, "BTCUSDT crossed 100000", buttons=alert_buttons(7))


@pytest.mark.parametrize(("data", "call", "notice"), [("mute:7", "mute", "alert 7 muted"),
                                                      ("delete:7", "delete", "alert 7 deleted")])  # fmt: skip
def test_a_button_acts_on_its_alert_and_is_removed(chat, alerts, alert_message, data, call, notice):
    chat.press(alert_message, data)

    assert alerts.calls == [(call, "alice", 7)]
    assert [n["text"] for n in chat.fake.notices] == [notice]
    assert chat.fake.messages[0].reply_markup is None


def test_a_button_in_a_chat_no_longer_linked_asks_to_link_first(chat, alerts, alert_message, alice_linked):
    alice_linked.delete()

    chat.press(alert_message, "delete:7")

    assert alerts.calls == []
    assert [n["text"] for n in chat.fake.notices] == [LINK_FIRST]
    assert chat.fake.messages[0].reply_markup is not None


@pytest.mark.parametrize("data", ["snooze:7", {"mute": 7}], ids=["unknown", "not text"])
def test_an_unknown_button_is_answered_and_does_nothing(chat, alerts, alert_message, data):
    chat.press(alert_message, data)

    assert alerts.calls == []
    assert [n["text"] for n in chat.fake.notices] == ["This button does nothing any more."]
