"""Alert rules through the API: their owner's only, validated as the model validates them; and the history."""

import pytest
from django.contrib.auth.models import User

from apps.alerts.index import Match
from apps.alerts.models import AlertRule, Watchlist
from apps.alerts.services import alert_rules_fire
from apps.strategies.models import Strategy
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"
EVENTS = "/api/v1/alert-events/"


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


@pytest.fixture
def btc():
    return SymbolFactory(symbol="BTCUSDT")


@pytest.fixture
def alices_rule(alice, btc):
    return AlertRuleFactory(owner=alice, symbol=btc, value=100)


def post(client, body: dict):
    return client.post(URL, body, content_type="application/json")


def test_anonymous_clients_cannot_list_alerts(client, alices_rule):
    assert client.get(URL).status_code == 401


def test_a_user_creates_a_price_alert_on_a_symbol(client, alice, btc):
    client.force_login(alice)

    response = post(client, {"symbol": "BTCUSDT", "kind": "price_above", "value": "100000", "telegram": True})

    assert response.status_code == 201, response.json()
    rule = AlertRule.objects.get(owner=alice)
    assert (rule.target, rule.symbol, rule.value, rule.telegram, rule.websocket) == ("symbol", btc, 100000, True, True)
    assert response.json()["description"] == "price rises to or above 100000"


@pytest.mark.parametrize(
    "body",
    [
        {"target": "all", "kind": "percent_change", "value": "-5", "window_minutes": 60},
        {"symbol": "BTCUSDT", "kind": "indicator", "field": "rsi_1h", "operator": "lt", "value": "30"},
        {"symbol": "BTCUSDT", "kind": "strategy_signal", "strategy": "oversold"},
        {"symbol": "BTCUSDT", "kind": "price_crosses", "value": "95000.5", "one_time": True, "cooldown_seconds": 0,
         "websocket": False, "webhook_url": "https://93.184.215.14/hook"},
    ],
)  # fmt: skip
def test_every_kind_of_condition_can_be_created(client, alice, btc, body):
    Strategy.objects.create(name="oversold", timeframe="1h", conditions={"all": []})
    client.force_login(alice)

    assert post(client, body).status_code == 201


def test_a_watchlist_alert_takes_one_of_the_users_watchlists(client, alice, bob):
    client.force_login(alice)
    mine = Watchlist.objects.create(owner=alice, name="mine")
    bobs = Watchlist.objects.create(owner=bob, name="bobs")

    assert (
        post(client, {"target": "watchlist", "watchlist": mine.id, "kind": "price_above", "value": 1}).status_code
        == 201
    )
    refused = post(client, {"target": "watchlist", "watchlist": bobs.id, "kind": "price_above", "value": 1})
    assert refused.status_code == 400
    assert "watchlist" in refused.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "price_above", "value": "1"}, "symbol"),
        ({"target": "all", "symbol": "BTCUSDT", "kind": "price_above", "value": "1"}, "symbol"),
        ({"symbol": "BTCUSDT", "kind": "price_above"}, "value"),
        ({"symbol": "BTCUSDT", "kind": "price_below", "value": "0"}, "value"),
        ({"symbol": "BTCUSDT", "kind": "price_above", "value": "1", "window_minutes": 5}, "window_minutes"),
        ({"symbol": "BTCUSDT", "kind": "percent_change", "value": "5"}, "window_minutes"),
        ({"symbol": "BTCUSDT", "kind": "percent_change", "value": "5", "window_minutes": 1441}, "window_minutes"),
        ({"symbol": "BTCUSDT", "kind": "percent_change", "value": "0", "window_minutes": 5}, "value"),
        ({"symbol": "BTCUSDT", "kind": "indicator", "field": "rsi_2h", "operator": "lt", "value": "30"}, "field"),
        ({"symbol": "BTCUSDT", "kind": "indicator", "field": "rsi_1h", "value": "30"}, "operator"),
        ({"symbol": "BTCUSDT", "kind": "indicator", "field": "rsi_1h", "operator": "ne", "value": "30"}, "operator"),
        ({"symbol": "BTCUSDT", "kind": "strategy_signal"}, "strategy"),
        ({"symbol": "BTCUSDT", "kind": "strategy_signal", "strategy": "nonesuch"}, "strategy"),
        ({"symbol": "BTCUSDT", "kind": "kaboom", "value": "1"}, "kind"),
        ({"symbol": "BTCUSDT", "kind": "price_above", "value": "1", "websocket": False}, "webhook_url"),
        ({"symbol": "BTCUSDT", "kind": "price_above", "value": "1", "webhook_url": "ftp://example.com"}, "webhook_url"),
        ({"symbol": "BTCUSDT", "kind": "price_above", "value": "1", "webhook_url": "not a url"}, "webhook_url"),
        ({"symbol": "BTCUSDT", "kind": "price_above", "value": "1", "cooldown_seconds": -1}, "cooldown_seconds"),
        ({"symbol": "NOPEUSDT", "kind": "price_above", "value": "1"}, "symbol"),
    ],
)  # fmt: skip
def test_an_invalid_alert_is_refused_naming_the_field(client, alice, btc, body, field):
    client.force_login(alice)

    response = post(client, body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()
    assert not AlertRule.objects.exists()


def test_a_partial_update_is_validated_with_the_rest_of_the_rule(client, alice, alices_rule):
    client.force_login(alice)

    response = client.patch(f"{URL}{alices_rule.id}/", {"kind": "percent_change"}, content_type="application/json")

    assert response.status_code == 400
    assert "window_minutes" in response.json()["error"]["fields"]


def test_the_owner_switches_theirs_off(client, alice, alices_rule):
    client.force_login(alice)

    response = client.patch(f"{URL}{alices_rule.id}/", {"is_active": False}, content_type="application/json")

    assert response.status_code == 200
    assert AlertRule.objects.get(id=alices_rule.id).is_active is False


def test_the_owner_deletes_theirs(client, alice, alices_rule):
    client.force_login(alice)

    assert client.delete(f"{URL}{alices_rule.id}/").status_code == 204
    assert not AlertRule.objects.exists()


def test_a_user_lists_only_their_own(client, alices_rule, bob, btc):
    bobs = AlertRuleFactory(owner=bob, symbol=btc, value=5)
    client.force_login(bob)

    assert [rule["id"] for rule in client.get(URL).json()["results"]] == [bobs.id]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_alert_is_not_found(client, alices_rule, bob, method):
    client.force_login(bob)

    response = getattr(client, method)(f"{URL}{alices_rule.id}/", {"value": "1"}, content_type="application/json")

    assert response.status_code == 404
    assert AlertRule.objects.get(id=alices_rule.id).value == 100


def test_staff_see_only_their_own_through_the_api(client, alices_rule):
    client.force_login(User.objects.create_user("admin", password="pw", is_staff=True, is_superuser=True))

    assert client.get(f"{URL}{alices_rule.id}/").status_code == 404
    assert client.get(EVENTS).json()["results"] == []


def test_the_history_lists_the_users_events_newest_first_with_their_deliveries(client, alice, bob, alices_rule, btc):
    bobs = AlertRuleFactory(owner=bob, symbol=btc, value=100)
    for trigger in ("ticker:1", "ticker:2"):
        alert_rules_fire(matches=[Match(alices_rule.id, btc.id, trigger, {"price": 101.0, "previous_price": 99.0})])
    alert_rules_fire(matches=[Match(bobs.id, btc.id, "ticker:1", {"price": 101.0, "previous_price": 99.0})])
    client.force_login(alice)

    events = client.get(EVENTS).json()["results"]

    assert [event["rule"] for event in events] == [alices_rule.id, alices_rule.id]
    assert events[0]["id"] > events[1]["id"]
    assert events[0]["symbol"] == "BTCUSDT"
    assert events[0]["deliveries"] == [{"channel": "websocket", "destination": "", "status": "pending", "attempts": 0,
                                        "error": "", "sent_at": None}]  # fmt: skip


def test_anonymous_clients_cannot_read_a_history(client):
    assert client.get(EVENTS).status_code == 401


def test_a_user_has_at_most_the_configured_number_of_rules(client, alice, btc, settings):
    settings.ALERTS_MAX_RULES_PER_USER = 2
    AlertRuleFactory.create_batch(2, owner=alice, symbol=btc)
    client.force_login(alice)

    refused = post(client, {"symbol": "BTCUSDT", "kind": "price_above", "value": "1"})

    assert refused.status_code == 400
    assert "non_field_errors" in refused.json()["error"]["fields"]
    assert AlertRule.objects.filter(owner=alice).count() == 2


def test_a_user_has_at_most_the_configured_number_of_webhook_urls(client, alice, btc, settings):
    settings.ALERTS_MAX_WEBHOOKS_PER_USER = 1
    client.force_login(alice)
    first = {"symbol": "BTCUSDT", "kind": "price_above", "value": "1", "webhook_url": "https://93.184.215.14/a"}

    assert post(client, first).status_code == 201
    assert post(client, first).status_code == 201, "the same URL again is no second webhook"
    refused = post(client, first | {"webhook_url": "https://93.184.215.14/b"})
    assert refused.status_code == 400
    assert "webhook_url" in refused.json()["error"]["fields"]
