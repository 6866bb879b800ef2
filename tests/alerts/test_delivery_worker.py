"""The webhook delivery task on a real Celery worker of the `webhooks` queue, over the real Redis broker: a delivery
that failed for now is retried after a backoff, and sent once."""

import pytest

from apps.alerts.models import AlertDelivery
from config.queues import Queue
from tasks.alerts import deliver_webhook
from tests.alerts.conftest import LOOPBACK
from tests.alerts.test_delivery import fire
from tests.conftest import wait_until
from tests.workers import real_broker, running_worker, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(tmp_path):
    log = tmp_path / "worker.log"
    environment = worker_environment(ALERTS_WEBHOOK_ALLOWED_NETWORKS=LOOPBACK)
    with real_broker(), running_worker(Queue.WEBHOOKS.value, log, environment=environment):
        yield log


def test_a_webhook_that_failed_for_now_is_retried_after_a_backoff_and_sent_once(webhook, worker):
    webhook.statuses = [502]
    event = fire(webhook_url=webhook.url)

    deliver_webhook.delay(event.deliveries.get().id)

    assert wait_until(lambda: event.deliveries.get().status == AlertDelivery.Status.SENT, 30), worker.read_text()
    assert event.deliveries.get().attempts == 2
    assert len(webhook.received) == 2
    assert "Retry in" in worker.read_text()
