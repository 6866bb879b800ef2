"""Alert tasks, on the `notifications` queue: one `deliver_event` per fired event (Telegram and WebSocket); the
indicator rules' evaluation after each snapshot update and the strategy rules' after new signals. Tickers are
evaluated in the streamer's own process, which holds each symbol's previous price. Webhooks, which wait on servers
of their users' choosing, go one `deliver_webhook` per delivery on the `webhooks` queue and its own workers.
"""

import random

from django.conf import settings
from django.db import OperationalError

from apps.alerts.services import (
    alert_event_deliver,
    alert_pairs_evaluate,
    alert_signals_evaluate,
    alert_snapshots_evaluate,
    alert_webhook_deliver,
)
from config.celery import app

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
SNAPSHOTS_EXPIRE_SECONDS = 60  # the next minute's snapshots supersede these


# Deliveries: acknowledged once done (a worker that dies mid-send leaves them queued), retried with backoff.
_DELIVERY = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": settings.ALERTS_DELIVERY_MAX_RETRIES,
}


@app.task(name="alerts.deliver_event", **_DELIVERY)
def deliver_event(self, event_id: int) -> None:
    # In-process (the embedded default) a retry would run at once, in the caller's thread: one attempt there.
    final = self.request.is_eager or self.request.retries >= self.max_retries
    wait = alert_event_deliver(event_id=event_id, final=final)
    if wait is not None:
        raise self.retry(countdown=max(wait, _backoff(self.request.retries)))


@app.task(name="alerts.deliver_webhook", **_DELIVERY)
def deliver_webhook(self, delivery_id: int) -> None:
    final = self.request.is_eager or self.request.retries >= self.max_retries
    wait = alert_webhook_deliver(delivery_id=delivery_id, final=final)
    if wait is None:
        return
    if not wait.attempted:  # its destination was busy: queued again, as many retries left as before
        self.apply_async((delivery_id,), countdown=wait.seconds, retries=self.request.retries)
        return
    raise self.retry(countdown=max(wait.seconds, _backoff(self.request.retries)))


def _backoff(retries: int) -> float:
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries) * random.uniform(0.5, 1.5)


@app.task(name="alerts.evaluate_snapshots", expires=SNAPSHOTS_EXPIRE_SECONDS, autoretry_for=(OperationalError,))
def evaluate_snapshots(symbol_ids: list[int], timeframes: list[str]) -> None:
    alert_snapshots_evaluate(symbol_ids=symbol_ids, timeframes=timeframes)
    alert_pairs_evaluate(symbol_ids=symbol_ids, timeframes=timeframes)


@app.task(name="alerts.evaluate_signals", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def evaluate_signals(signal_ids: list[int]) -> None:
    alert_signals_evaluate(signal_ids=signal_ids)
