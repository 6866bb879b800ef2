"""The bot on a real Celery worker (queue `notifications`) over the real Redis broker and PostgreSQL: an update
posted to the webhook is answered, and a reply that Telegram refused is sent again, no sooner than it asked."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from config.celery import app
from config.queues import Queue
from tests.conftest import wait_until
from tests.telegram.conftest import SECRET, STRANGER_CHAT, post_update

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker():
    """Tasks go to the real broker (the suite otherwise runs them in-process), from an empty queue."""
    app.conf.task_always_eager = False
    with app.connection_for_write() as broker_connection:
        broker_connection.default_channel.queue_purge(Queue.NOTIFICATIONS.value)
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def worker(broker, fake_telegram, tmp_path):
    database = connection.settings_dict
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_API_URL": fake_telegram.url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", Queue.NOTIFICATIONS.value, "-c", "1",
             "-n", "telegram@%h", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    assert wait_until(lambda: "ready" in log.read_text(), 30), "the worker started"
    yield log
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def help_update(update_id: int) -> dict:
    chat = {"id": STRANGER_CHAT, "type": "private"}
    return {"update_id": update_id, "message": {"message_id": 1, "date": 0, "chat": chat, "text": "/help"}}


def test_the_worker_answers_an_update_posted_to_the_webhook(client, fake_telegram, worker):
    assert post_update(client, help_update(1)).status_code == 200

    assert wait_until(lambda: fake_telegram.texts_to(STRANGER_CHAT), 20), worker.read_text()
    assert fake_telegram.texts_to(STRANGER_CHAT)[0].startswith("Commands:")


def test_a_reply_refused_by_flood_control_is_sent_again_after_retry_after(client, fake_telegram, worker):
    fake_telegram.fail_next(1, 429, retry_after=2)

    post_update(client, help_update(2))

    assert wait_until(lambda: fake_telegram.texts_to(STRANGER_CHAT), 20), worker.read_text()
    refused, sent = fake_telegram.requests_of("sendMessage")
    assert (refused.status, sent.status) == (429, 200)
    assert sent.at - refused.at >= 2


def test_a_reply_refused_by_a_server_error_is_sent_again(client, fake_telegram, worker):
    fake_telegram.fail_next(2, 502)

    post_update(client, help_update(3))

    assert wait_until(lambda: fake_telegram.texts_to(STRANGER_CHAT), 20), worker.read_text()
    assert [request.status for request in fake_telegram.requests_of("sendMessage")] == [502, 502, 200]
