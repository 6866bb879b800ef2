"""Alert rules in the admin: listed with their condition, validated as the API validates them; events read-only."""

import pytest
from django.contrib.auth.models import User

from apps.alerts.index import Match
from apps.alerts.models import AlertRule
from apps.alerts.services import alert_rules_fire
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_user("admin", password="pw", is_staff=True, is_superuser=True))
    return client


def test_the_admin_lists_every_users_rules_with_their_condition(admin_client):
    AlertRuleFactory(symbol=SymbolFactory(symbol="BTCUSDT"), value=100)

    page = admin_client.get("/admin/alerts/alertrule/").content.decode()

    assert "price rises to or above 100" in page


def test_the_admin_refuses_an_invalid_rule(admin_client):
    owner = UserFactory()

    response = admin_client.post("/admin/alerts/alertrule/add/", {
        "owner": owner.id, "target": "all", "kind": "percent_change", "value": "5", "cooldown_seconds": 300,
        "websocket": "on", "is_active": "on",
    })  # fmt: skip

    assert response.status_code == 200
    assert "Required for percent_change." in response.content.decode()
    assert not AlertRule.objects.exists()


def test_the_admin_shows_an_event_with_its_deliveries(admin_client):
    btc = SymbolFactory(symbol="BTCUSDT")
    rule = AlertRuleFactory(symbol=btc, value=100, webhook_url="https://example.com/hook")
    [event_id] = alert_rules_fire(matches=[Match(rule.id, btc.id, "ticker:1", {"price": 101.0, "previous_price": 9.0})])

    page = admin_client.get(f"/admin/alerts/alertevent/{event_id}/change/").content.decode()

    assert "https://example.com/hook" in page
    assert "pending" in page
