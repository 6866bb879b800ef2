"""The bot on a real Celery worker (queue `notifications`) over the real Redis broker and PostgreSQL: an update
posted to the webhook is answered, and a reply that Telegram refused is sent again, no sooner than it asked."""

import pytest

from config.queues import Queue
from tests.conftest import wait_until
from tests.telegram.conftest import SECRET, STRANGER_CHAT, post_update
from tests.workers import real_broker, running_worker, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(fake_telegram, tmp_path):
    log = tmp_path / "worker.log"
    environment = worker_environment(TELEGRAM_BOT_TOKEN=fake_telegram.token, TELEGRAM_API_URL=fake_telegram.url,
                                     TELEGRAM_WEBHOOK_SECRET=SECRET)  # fmt: skip
    with real_broker(), running_worker(Queue.NOTIFICATIONS.value, log, name="telegram", environment=environment):
        yield log


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
