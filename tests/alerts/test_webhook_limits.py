"""A webhook destination takes only its share of the webhook workers: a few sends at once, and none for a while
after it failed again and again. Another destination is not affected."""

import time

import pytest

from apps.alerts.destination_limits import destination_slot
from apps.alerts.models import AlertDelivery
from apps.alerts.services import WEBHOOK_PAUSED, WebhookWait
from tests.alerts.conftest import WebhookReceiver
from tests.alerts.test_delivery import deliver, delivery, fire

pytestmark = pytest.mark.django_db

Status = AlertDelivery.Status


@pytest.fixture
def failing(webhook, settings):
    """A destination that answers 503 to everything, paused after two failures in a row for 60 s."""
    settings.ALERTS_WEBHOOK_BREAKER_FAILURES = 2
    settings.ALERTS_WEBHOOK_BREAKER_SECONDS = 60
    webhook.statuses = [503] * 100
    return webhook


def fail_twice(receiver: WebhookReceiver) -> None:
    for _ in range(2):
        deliver(fire(webhook_url=receiver.url), final=False)


def test_a_destination_that_keeps_failing_is_paused_and_its_deliveries_wait_without_trying(failing):
    fail_twice(failing)
    event = fire(webhook_url=failing.url)

    wait = deliver(event, final=False)

    assert 55 < wait.seconds <= 60
    assert len(failing.received) == 2, "nothing sent while paused"
    assert (delivery(event, "webhook").status, delivery(event, "webhook").attempts) == (Status.PENDING, 0)


def test_a_paused_destination_is_tried_again_once_the_pause_ends(failing, settings):
    settings.ALERTS_WEBHOOK_BREAKER_SECONDS = 1
    fail_twice(failing)
    failing.statuses = []
    time.sleep(1.2)
    event = fire(webhook_url=failing.url)

    assert deliver(event, final=False) is None
    assert delivery(event, "webhook").status == Status.SENT


def test_on_its_last_attempt_a_delivery_to_a_paused_destination_fails(failing):
    fail_twice(failing)
    event = fire(webhook_url=failing.url)

    assert deliver(event, final=True) is None
    assert (delivery(event, "webhook").status, delivery(event, "webhook").error) == (Status.FAILED, WEBHOOK_PAUSED)


def test_another_destination_is_not_paused(failing):
    fail_twice(failing)
    healthy = WebhookReceiver()
    try:
        event = fire(webhook_url=healthy.url)

        assert deliver(event, final=False) is None
        assert delivery(event, "webhook").status == Status.SENT
    finally:
        healthy.close()


def test_a_destination_sending_as_much_as_it_may_at_once_makes_the_next_delivery_wait_without_an_attempt(
    webhook, settings
):
    settings.ALERTS_WEBHOOK_CONCURRENCY_PER_DESTINATION = 1
    event = fire(webhook_url=webhook.url)

    with destination_slot(webhook.url) as held:
        assert held
        wait = deliver(event, final=False)

    assert isinstance(wait, WebhookWait) and not wait.attempted
    assert (delivery(event, "webhook").status, delivery(event, "webhook").attempts) == (Status.PENDING, 0)
    assert webhook.received == []
