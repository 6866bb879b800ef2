import functools
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.alerts.destination_limits import destination_paused_seconds, destination_slot
from apps.alerts.index import LiveAlerts, Match, rules_changed
from apps.alerts.models import AlertDelivery, AlertEvent, AlertRule
from apps.alerts.selectors import (
    alert_index_build,
    price_references,
    snapshots_for_alerts,
    strategy_signals,
    telegram_destinations,
)
from apps.alerts.transports import TRANSPORTS
from apps.analytics.selectors import pair_zscores_latest
from apps.market.intervals import INTERVALS
from apps.market.models import Symbol
from apps.market.transport import TransportError

logger = logging.getLogger(__name__)

WEBHOOK_PAUSED = "webhook: not sent, its destination failed too often lately and is paused"
# A delivery claimed longer ago than this has lost its sender (a worker that died mid-send): it may be claimed again.
# Longer than any one send may take (the webhook's and Telegram's timeouts, Telegram's send limiter).
DELIVERY_LEASE = timedelta(minutes=2)


@functools.cache
def live_alerts() -> LiveAlerts:
    """This process's evaluation: its index and the prices crossings are measured from live as long as it does."""
    return LiveAlerts(load_index=alert_index_build, references=price_references)


def alert_tickers_evaluate(*, tickers: dict[str, dict]) -> list[int]:
    """Fire the price and % change rules that a flush of tickers meets; the new events' ids."""
    return alert_rules_fire(matches=live_alerts().tickers(tickers))


def alert_snapshots_evaluate(*, symbol_ids: list[int], timeframes: list[str]) -> list[int]:
    """Fire the indicator rules that these symbols' snapshots meet; the new events' ids."""
    live = live_alerts()
    if not live.index.fields(timeframes):
        return []
    return alert_rules_fire(matches=live.snapshots(snapshots_for_alerts(symbol_ids=symbol_ids, timeframes=timeframes)))


def alert_pairs_evaluate(*, symbol_ids: list[int], timeframes: list[str]) -> list[int]:
    """Fire the pairs rules on these symbols (either leg) whose spread z-score crossed their value from the one
    closed candle to the next; the new events' ids. One check per rule and closed candle: the trigger is the
    candle."""
    rules = AlertRule.objects.filter(
        Q(symbol_id__in=symbol_ids) | Q(pair_symbol_id__in=symbol_ids),
        kind=AlertRule.Kind.PAIR_ZSCORE, is_active=True, pair_timeframe__in=timeframes,
    )  # fmt: skip
    matches = []
    for rule in rules:
        zscores = pair_zscores_latest(a_id=rule.symbol_id, b_id=rule.pair_symbol_id,
                                      interval=INTERVALS[rule.pair_timeframe], window=rule.pair_window)  # fmt: skip
        if zscores is None or zscores.previous is None or zscores.newest is None:
            continue
        threshold = float(rule.value)
        if min(zscores.previous, zscores.newest) < threshold <= max(zscores.previous, zscores.newest):
            matches.append(Match(rule.id, rule.symbol_id, f"pair:{rule.pair_timeframe}:{zscores.open_ms}",
                                 {"zscore": zscores.newest, "previous_zscore": zscores.previous}))  # fmt: skip
    return alert_rules_fire(matches=matches)


def alert_signals_evaluate(*, signal_ids: list[int]) -> list[int]:
    """Fire the strategy rules of new strategy signals; the new events' ids."""
    live = live_alerts()
    if not live.index.signals:
        return []
    return alert_rules_fire(matches=live.signals(strategy_signals(signal_ids=signal_ids)))


def alert_rules_fire(*, matches: list[Match]) -> list[int]:
    """Fire each matched rule that may fire now (active, past its cooldown) once, however many processes try at
    once, with an event for each symbol it matched; a one-time rule switches off. The new events' ids: their
    deliveries are queued once committed. A trigger seen before (the same ticker, snapshot or signal) makes no
    second event."""
    if not matches:
        return []
    now = timezone.now()
    by_rule = defaultdict(list)
    for match in matches:
        by_rule[match.rule_id].append(match)
    with transaction.atomic():
        rules = AlertRule.objects.in_bulk(list(by_rule))
        # In id order: processes firing overlapping rules lock them in the same order, so they never deadlock.
        fired = {rule_id: rule for rule_id, rule in sorted(rules.items()) if _rule_claimed(rule, now)}
        symbols = dict(Symbol.objects.filter(id__in={m.symbol_id for m in matches}).values_list("id", "symbol"))
        events = [
            _event(rule, match, symbols[match.symbol_id], now) for rule in fired.values() for match in by_rule[rule.id]
        ]
        AlertEvent.objects.bulk_create(events, ignore_conflicts=True)
        created = list(AlertEvent.objects.filter(idempotency_key__in=[event.idempotency_key for event in events],
                                                 created_at=now).select_related("rule"))  # fmt: skip
        deliveries = AlertDelivery.objects.bulk_create(_deliveries(created, now))
        if any(rule.one_time for rule in fired.values()):
            transaction.on_commit(rules_changed)
        transaction.on_commit(functools.partial(_deliver_later, deliveries))
    return [event.id for event in created]


def _rule_claimed(rule: AlertRule, now: datetime) -> bool:
    """Whether this process fires the rule: the UPDATE holds only while it is active and out of its cooldown, which
    one process at a time can find (another one's UPDATE waits for the row, then no longer matches)."""
    due = Q(last_fired_at__isnull=True) | Q(last_fired_at__lte=now - timedelta(seconds=rule.cooldown_seconds))
    claimed = AlertRule.objects.filter(due, pk=rule.pk, is_active=True).update(
        last_fired_at=now, is_active=Case(When(one_time=True, then=Value(False)), default=Value(True))
    )
    return claimed == 1


def _event(rule: AlertRule, match: Match, symbol: str, now: datetime) -> AlertEvent:
    return AlertEvent(
        rule=rule,
        user_id=rule.owner_id,
        symbol_id=match.symbol_id,
        message=f"{symbol}: {rule.describe()}{_detail(match.values)}",
        values=match.values,
        idempotency_key=f"{rule.id}:{match.symbol_id}:{match.trigger}",
        created_at=now,
    )


def _detail(values: dict) -> str:
    if "change_percent" in values:
        return f" ({values['change_percent']:+.2f}%: {values['reference_price']:.10g} -> {values['price']:.10g})"
    if "previous_price" in values:
        return f" (now {values['price']:.10g})"
    if "field" in values:
        return f" ({values['field']} = {values['value']:.6g})"
    if "zscore" in values:
        return f" ({values['previous_zscore']:.3f} -> {values['zscore']:.3f})"
    return f" ({values['timeframe']})"


def _deliveries(events: list[AlertEvent], now: datetime) -> list[AlertDelivery]:
    """Each event's deliveries, from its rule's channels: one per linked Telegram chat that is not muted (none
    linked: one that failed), the WebSocket, the webhook."""
    Channel = AlertDelivery.Channel
    telegram_users = {event.user_id for event in events if event.rule.telegram}
    chats = telegram_destinations(user_ids=telegram_users, now=now) if telegram_users else {}
    deliveries = []
    for event in events:
        rule = event.rule
        if rule.telegram:
            deliveries += [AlertDelivery(event=event, channel=Channel.TELEGRAM, destination=str(chat))
                           for chat in chats.get(event.user_id, [])]  # fmt: skip
        if rule.telegram and not chats.get(event.user_id):
            deliveries.append(AlertDelivery(event=event, channel=Channel.TELEGRAM, status=AlertDelivery.Status.FAILED,
                                            error="No Telegram chat linked, or all muted."))  # fmt: skip
        if rule.websocket:
            deliveries.append(AlertDelivery(event=event, channel=Channel.WEBSOCKET))
        if rule.webhook_url:
            deliveries.append(AlertDelivery(event=event, channel=Channel.WEBHOOK, destination=rule.webhook_url))
    return deliveries


def _deliver_later(deliveries: list[AlertDelivery]) -> None:
    """One task per event for its Telegram and WebSocket deliveries, and one per webhook delivery on the webhooks'
    own queue: a webhook that hangs holds up only webhook workers, and those only as far as its destination's
    limits let it."""
    from tasks.alerts import deliver_event, deliver_webhook

    pending = [delivery for delivery in deliveries if delivery.status == AlertDelivery.Status.PENDING]
    for event_id in dict.fromkeys(d.event_id for d in pending if d.channel != AlertDelivery.Channel.WEBHOOK):
        deliver_event.delay(event_id)
    for delivery in pending:
        if delivery.channel == AlertDelivery.Channel.WEBHOOK:
            deliver_webhook.delay(delivery.id)


def alert_event_deliver(*, event_id: int, final: bool) -> float | None:
    """Send the event on each of its channels not yet sent but its webhook (alert_webhook_deliver sends that), each
    at most once. Returns the seconds to wait before trying again what failed for now (None: nothing to retry)."""
    event = AlertEvent.objects.select_related("symbol").filter(pk=event_id).first()
    if event is None:
        return None
    deliveries = event.deliveries.filter(status__in=[AlertDelivery.Status.PENDING, AlertDelivery.Status.SENDING])
    waits = [_delivery_send(event, delivery, final=final)
             for delivery in deliveries.exclude(channel=AlertDelivery.Channel.WEBHOOK)]  # fmt: skip
    waits = [wait for wait in waits if wait is not None]
    return max(waits) if waits else None


@dataclass(frozen=True)
class WebhookWait:
    """When to try a webhook delivery again; `attempted` is False when its destination was busy and nothing was
    tried, which is no retry."""

    seconds: float
    attempted: bool = True


def alert_webhook_deliver(*, delivery_id: int, final: bool) -> WebhookWait | None:
    """Send one webhook delivery, unless its destination is paused (it failed too often lately) or already takes
    as many sends as it may at once: then it waits, or fails when `final`. None: nothing to try again."""
    delivery = (
        AlertDelivery.objects.select_related("event__symbol")
        .filter(pk=delivery_id, status__in=[AlertDelivery.Status.PENDING, AlertDelivery.Status.SENDING])
        .first()
    )
    if delivery is None:
        return None
    paused = destination_paused_seconds(delivery.destination)
    if paused and not final:
        return WebhookWait(paused)
    with destination_slot(delivery.destination) as free:
        if paused or not free:
            if final:
                _delivery_set(delivery, status=AlertDelivery.Status.FAILED, error=WEBHOOK_PAUSED)
                return None
            return WebhookWait(settings.ALERTS_WEBHOOK_TIMEOUT_SECONDS * random.uniform(0.5, 1.5), attempted=False)
        wait = _delivery_send(delivery.event, delivery, final=final)
    return None if wait is None else WebhookWait(wait)


def _delivery_send(event: AlertEvent, delivery: AlertDelivery, *, final: bool) -> float | None:
    """Send one delivery at most once: it is claimed first, so that a retry, a redelivered task or a second task
    skips what another sent or is sending. A transient failure leaves it pending (failed when `final`). Returns the
    seconds to wait before trying again (None: sent, failed for good, or left to the sender that holds it)."""
    if not _delivery_claimed(delivery):
        # Another sender holds it: look again when its lease ends, in case that sender died with it.
        return None if final else _lease_left_seconds(delivery)
    try:
        TRANSPORTS[delivery.channel].send(event, delivery.destination)
    except TransportError as error:
        _delivery_failed(delivery, error, final=final or error.permanent)
        return None if final or error.permanent else getattr(error, "retry_after", None) or 0
    _delivery_set(delivery, status=AlertDelivery.Status.SENT, sent_at=timezone.now(), error="")
    return None


def _delivery_claimed(delivery: AlertDelivery) -> bool:
    now = timezone.now()
    claimable = Q(status=AlertDelivery.Status.PENDING) | Q(
        status=AlertDelivery.Status.SENDING, claimed_at__lt=now - DELIVERY_LEASE
    )
    claimed = AlertDelivery.objects.filter(claimable, pk=delivery.pk).update(
        status=AlertDelivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return claimed == 1


def _lease_left_seconds(delivery: AlertDelivery) -> float | None:
    """Seconds until the claim on a delivery being sent runs out; None once it is sent or failed."""
    current = AlertDelivery.objects.filter(pk=delivery.pk, status=AlertDelivery.Status.SENDING).first()
    if current is None:
        return None
    return max(1.0, (current.claimed_at + DELIVERY_LEASE - timezone.now()).total_seconds())


def _delivery_failed(delivery: AlertDelivery, error: TransportError, *, final: bool) -> None:
    status = AlertDelivery.Status.FAILED if final else AlertDelivery.Status.PENDING
    logger.warning("alert delivery %s (%s) %s: %s", delivery.pk, delivery.channel, status, error)
    _delivery_set(delivery, status=status, error=str(error)[:500])


def _delivery_set(delivery: AlertDelivery, **fields: object) -> None:
    AlertDelivery.objects.filter(pk=delivery.pk).update(**fields)


def alert_rule_create(*, owner: AbstractBaseUser, **fields: object) -> AlertRule:
    rule = AlertRule(owner=owner, **fields)
    rule.full_clean()
    rule.save()
    return rule


def alert_rule_delete(*, owner_id: int, rule_id: int) -> bool:
    deleted, _ = AlertRule.objects.filter(owner_id=owner_id, pk=rule_id).delete()
    return bool(deleted)


def alert_rules_mute(*, owner_id: int, rule_id: int | None) -> int:
    """Switch off one of the owner's rules (1 if it is theirs), or all of them (None: how many were on)."""
    rules = AlertRule.objects.filter(owner_id=owner_id)
    muted = (rules.filter(is_active=True) if rule_id is None else rules.filter(pk=rule_id)).update(is_active=False)
    transaction.on_commit(rules_changed)
    return muted
