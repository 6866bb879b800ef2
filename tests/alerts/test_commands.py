"""The Telegram bot's alert commands, as apps.telegram calls them (its registered AlertCommands)."""

import pytest

from apps.alerts.models import AlertRule
from apps.telegram.alert_commands import alert_commands
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture(autouse=True)
def btc():
    return SymbolFactory(symbol="BTCUSDT")


@pytest.mark.parametrize(
    ("typed", "fields"),
    [
        ("> 100000", {"kind": "price_above", "value": 100000}),
        ("above 100,000", {"kind": "price_above", "value": 100000}),
        ("< 90000.5", {"kind": "price_below", "value": 90000.5}),
        ("crosses 95000", {"kind": "price_crosses", "value": 95000}),
        ("+5% 15m", {"kind": "percent_change", "value": 5, "window_minutes": 15}),
        ("-3% 1h", {"kind": "percent_change", "value": -3, "window_minutes": 60}),
        ("rsi_1h <= 30", {"kind": "indicator", "field": "rsi_1h", "operator": "lte", "value": 30}),
    ],
)  # fmt: skip
def test_alert_creates_a_telegram_rule_on_the_symbol(alice, typed, fields):
    reply = alert_commands().create(alice, "BTCUSDT", typed)

    rule = AlertRule.objects.get(owner=alice)
    assert reply == f"Alert {rule.id}: BTCUSDT {rule.describe()}. It will come here."
    assert {name: getattr(rule, name) for name in fields} == fields
    assert (rule.symbol.symbol, rule.telegram) == ("BTCUSDT", True)


@pytest.mark.parametrize(
    ("symbol", "typed", "reply"),
    [
        ("DOGEUSDT", "> 1", "Unknown symbol DOGEUSDT."),
        ("BTCUSDT", "to the moon", "I cannot read 'to the moon': try > 100000, < 90000, crosses 95000, +5% 15m, "
                                   "rsi_1h < 30 or signal NAME."),
        ("BTCUSDT", "> lots", "'lots' is not a number."),
        ("BTCUSDT", "> nan", "'nan' is not a number."),
        ("BTCUSDT", "rsi_1h < -Infinity", "'-Infinity' is not a number."),
        ("BTCUSDT", "< 0", "Cannot create it: value: A price is above zero."),
        ("BTCUSDT", "signal nonesuch", "Cannot create it: strategy: No strategy is named 'nonesuch'."),
    ],
)  # fmt: skip
def test_alert_explains_what_it_cannot_create(alice, symbol, typed, reply):
    assert alert_commands().create(alice, symbol, typed) == reply
    assert not AlertRule.objects.exists()


def test_alerts_lists_the_users_rules_with_their_ids(alice, btc):
    on = AlertRuleFactory(owner=alice, symbol=btc, value=100)
    off = AlertRuleFactory(owner=alice, target=AlertRule.Target.ALL, symbol=None, kind="percent_change", value=-5,
                           window_minutes=60, is_active=False)  # fmt: skip
    AlertRuleFactory(symbol=btc, value=1)  # someone else's

    assert alert_commands().list(alice) == (
        f"Your alerts:\n{off.id}: any symbol: price falls 5% within 60 min (off)\n"
        f"{on.id}: BTCUSDT price rises to or above 100"
    )


def test_alerts_without_any(alice):
    assert alert_commands().list(alice) == "You have no alerts. /alert SYMBOL CONDITION creates one."


def test_delete_removes_only_the_users_own(alice, btc):
    mine, theirs = AlertRuleFactory(owner=alice, symbol=btc), AlertRuleFactory(symbol=btc)

    assert alert_commands().delete(alice, mine.id) == f"Alert {mine.id} deleted."
    assert alert_commands().delete(alice, theirs.id) == f"You have no alert {theirs.id}."
    assert list(AlertRule.objects.all()) == [theirs]


def test_mute_switches_one_rule_off(alice, btc):
    rule, other = AlertRuleFactory(owner=alice, symbol=btc), AlertRuleFactory(owner=alice, symbol=btc)

    assert alert_commands().mute(alice, rule.id) == f"Alert {rule.id} is off. Switch it on again in the app."
    assert list(AlertRule.objects.filter(is_active=True)) == [other]


def test_mute_all_switches_every_rule_of_the_user_off(alice, btc):
    AlertRuleFactory.create_batch(2, owner=alice, symbol=btc)
    theirs = AlertRuleFactory(symbol=btc)

    assert alert_commands().mute(alice, None) == "All your alerts are off (2). Switch them on again in the app."
    assert list(AlertRule.objects.filter(is_active=True)) == [theirs]


def test_mute_of_another_users_rule_does_nothing(alice, btc):
    theirs = AlertRuleFactory(symbol=btc)

    assert alert_commands().mute(alice, theirs.id) == f"You have no alert {theirs.id}."
    assert AlertRule.objects.get(id=theirs.id).is_active
