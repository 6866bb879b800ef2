"""One user's webhook that never answers delays nobody else's alerts: on real workers of the `notifications` and
`webhooks` queues over the real Redis broker, another user's WebSocket and webhook deliveries are sent within 5 s of
firing while a dozen deliveries to the hanging destination are queued ahead of them."""

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta

import pytest

from apps.alerts.index import Match
from apps.alerts.models import AlertDelivery, AlertEvent
from apps.alerts.services import alert_rules_fire
from config.queues import Queue
from tests.alerts.conftest import LOOPBACK, WebhookReceiver
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.conftest import wait_until
from tests.market.factories import SymbolFactory
from tests.workers import real_broker, running_worker, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)

HANGING_EVENTS = 12
TIMEOUT_SECONDS = 3
WITHIN = timedelta(seconds=5)


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    hanging, answering = WebhookReceiver(delay=60), WebhookReceiver()
    try:
        yield hanging, answering
    finally:
        hanging.close()
        answering.close()


@pytest.fixture
def workers(tmp_path) -> Iterator[list]:
    """One worker on `notifications`, two on `webhooks` (one process each), as production runs them."""
    environment = worker_environment(
        ALERTS_WEBHOOK_ALLOWED_NETWORKS=LOOPBACK,
        ALERTS_WEBHOOK_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
        ALERTS_WEBHOOK_CONCURRENCY_PER_DESTINATION="1",
    )
    with real_broker(), ExitStack() as stack:
        processes = []
        for name, queue in [("notify", Queue.NOTIFICATIONS), ("hook1", Queue.WEBHOOKS), ("hook2", Queue.WEBHOOKS)]:
            log = tmp_path / f"{name}.log"
            processes.append(stack.enter_context(running_worker(queue.value, log, name=name, environment=environment)))
        yield processes


def fire_on_symbols(rule, symbols) -> list[AlertEvent]:
    price = {"price": 101.0, "previous_price": 99.0}
    ids = alert_rules_fire(matches=[Match(rule.id, symbol.id, "ticker:1", price) for symbol in symbols])
    return list(AlertEvent.objects.filter(id__in=ids))


def test_a_hanging_webhook_does_not_delay_another_users_deliveries(receivers, workers):
    hanging, answering = receivers
    symbols = [SymbolFactory() for _ in range(HANGING_EVENTS)]
    mallorys = AlertRuleFactory(owner=UserFactory(), symbol=symbols[0], websocket=False, webhook_url=hanging.url)
    bobs = AlertRuleFactory(owner=UserFactory(), symbol=symbols[0], websocket=True, webhook_url=answering.url)
    fire_on_symbols(mallorys, symbols)
    assert wait_until(lambda: hanging.received, 60), "the hanging destination is being sent to"

    [event] = fire_on_symbols(bobs, symbols[:1])

    deliveries = AlertDelivery.objects.filter(event=event)
    assert wait_until(lambda: not deliveries.exclude(status=AlertDelivery.Status.SENT).exists(), 90), list(deliveries)
    late = {d.channel: d.sent_at - event.created_at for d in deliveries if d.sent_at - event.created_at >= WITHIN}
    assert late == {}
