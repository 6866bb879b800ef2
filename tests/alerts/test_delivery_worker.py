"""The delivery task on a real Celery worker of the `notifications` queue, over the real Redis broker: a delivery
that failed for now is retried after a backoff, and sent once."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from apps.alerts.models import AlertDelivery
from config.celery import app
from config.queues import Queue
from tasks.alerts import deliver_event
from tests.alerts.test_delivery import fire
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path):
    app.conf.task_always_eager = False
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(Queue.NOTIFICATIONS.value)
    database = connection.settings_dict
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
    }
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", Queue.NOTIFICATIONS.value, "-c", "1",
             "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    assert wait_until(lambda: "ready" in log.read_text(), 30), "the worker started"
    yield log
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    app.conf.task_always_eager = True


def test_a_webhook_that_failed_for_now_is_retried_after_a_backoff_and_sent_once(webhook, worker):
    webhook.statuses = [502]
    event = fire(webhook_url=webhook.url)

    deliver_event.delay(event.id)

    assert wait_until(lambda: event.deliveries.get().status == AlertDelivery.Status.SENT, 30), worker.read_text()
    assert event.deliveries.get().attempts == 2
    assert len(webhook.received) == 2
    assert "Retry in" in worker.read_text()
