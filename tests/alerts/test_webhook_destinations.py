"""Webhooks reach public addresses only (SSRF): a URL is refused when a rule is saved and again at each connection,
which goes to the address that was checked; the operator's allow-list opens a network. Failing to connect looks the
same to the user whatever the reason; the log has it. Name resolution is the network edge: where a test needs a name
to resolve somewhere, it swaps in its own resolver."""

import socket

import pytest

from apps.alerts.index import Match
from apps.alerts.models import AlertDelivery, AlertEvent
from apps.alerts.services import alert_rule_create, alert_rules_fire
from apps.alerts.transports import WEBHOOK_NO_ANSWER, WEBHOOK_REFUSED
from tests.alerts.factories import UserFactory
from tests.alerts.test_alerts_api import post
from tests.alerts.test_delivery import deliver, delivery, fire
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db

INTERNAL = [
    "http://127.0.0.1:5432/",
    "http://[::1]:6379/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://localhost:8000/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0:8000/",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[::ffff:127.0.0.1]:6379/",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
]
PUBLIC = "https://93.184.215.14/hook"


@pytest.fixture
def alice(client):
    SymbolFactory(symbol="BTCUSDT")
    user = UserFactory(username="alice")
    client.force_login(user)
    return user


def rule_with_webhook(client, url: str):
    return post(client, {"symbol": "BTCUSDT", "kind": "price_above", "value": "1", "webhook_url": url})


@pytest.fixture
def resolver(monkeypatch):
    """Names of this test resolve to the addresses it gives (each lookup takes the next list); others as usual."""
    names: dict[str, list[list[str]]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        answers = names[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names, lookups


@pytest.mark.parametrize("url", INTERNAL)
def test_a_webhook_to_an_internal_address_is_refused_when_the_rule_is_saved(client, alice, url):
    response = rule_with_webhook(client, url)

    assert response.status_code == 400
    assert "webhook_url" in response.json()["error"]["fields"]


def test_a_webhook_to_a_public_address_is_accepted(client, alice):
    assert rule_with_webhook(client, PUBLIC).status_code == 201


def test_a_name_that_resolves_to_any_internal_address_is_refused(client, alice, resolver):
    names, _ = resolver
    names["hooks.example.net"] = [["93.184.215.14", "10.0.0.7"]]

    response = rule_with_webhook(client, "https://hooks.example.net/hook")

    assert response.status_code == 400
    assert "10.0.0.7" in response.json()["error"]["fields"]["webhook_url"][0]


def test_the_operators_allow_list_lets_a_webhook_reach_an_internal_network(client, alice, settings):
    settings.ALERTS_WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert rule_with_webhook(client, "http://10.1.2.3:8080/hook").status_code == 201
    assert rule_with_webhook(client, "http://127.0.0.1:5432/").status_code == 400


def test_a_webhook_to_an_internal_address_is_refused_at_connection_time(webhook, settings, caplog):
    event = fire(webhook_url=webhook.url)  # saved while the allow-list let it in
    settings.ALERTS_WEBHOOK_ALLOWED_NETWORKS = []

    assert deliver(event, final=False) is None

    assert webhook.received == []
    refused = delivery(event, "webhook")
    assert (refused.status, refused.error) == (AlertDelivery.Status.FAILED, WEBHOOK_REFUSED)
    assert "127.0.0.1" in caplog.text


def test_a_name_that_resolves_elsewhere_later_is_refused_at_connection_time(resolver):
    names, _ = resolver
    names["hooks.example.net"] = [["8.8.8.8"]]
    btc = SymbolFactory(symbol="BTCUSDT")
    rule = alert_rule_create(owner=UserFactory(), symbol=btc, kind="price_above", value=100, websocket=False,
                             webhook_url="http://hooks.example.net/hook")  # fmt: skip
    [event_id] = alert_rules_fire(matches=[Match(rule.id, btc.id, "ticker:1", {"price": 101.0, "previous_price": 9.0})])
    event = AlertEvent.objects.get(id=event_id)
    names["hooks.example.net"] = [["169.254.169.254"]]

    deliver(event, final=False)

    assert delivery(event, "webhook").error == WEBHOOK_REFUSED


def test_the_connection_goes_to_the_address_that_was_checked(webhook, resolver):
    names, lookups = resolver
    # A rebinding name: the first answer passes the check, the next would reach the metadata service.
    names["rebind.example.net"] = [["127.0.0.1"], ["169.254.169.254"]]
    port = webhook.url.rsplit(":", 1)[1].split("/")[0]
    event = fire(webhook_url=f"http://rebind.example.net:{port}/hook")

    deliver(event, final=False)

    assert lookups == ["rebind.example.net"], "resolved once"
    assert delivery(event, "webhook").status == AlertDelivery.Status.SENT
    [request] = webhook.received
    assert request["headers"]["Host"] == f"rebind.example.net:{port}"


def test_a_closed_port_and_a_silent_one_look_the_same_to_the_user(webhook, settings, caplog):
    settings.ALERTS_WEBHOOK_TIMEOUT_SECONDS = 0.5
    webhook.delay = 2.0
    silent = fire(webhook_url=webhook.url)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    closed = fire(webhook_url=f"http://127.0.0.1:{closed_port}/hook")

    deliver(silent, final=True)
    deliver(closed, final=True)

    assert delivery(silent, "webhook").error == delivery(closed, "webhook").error == WEBHOOK_NO_ANSWER
    assert "ReadTimeout" in caplog.text and "ConnectError" in caplog.text
