from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.alerts.index import ALL, MINUTE_MS, AlertIndex, RuleRow
from apps.alerts.models import AlertEvent, AlertRule, Watchlist
from apps.indicators.models import Snapshot
from apps.market.intervals import datetime_from_ms
from apps.market.models import Candle, Symbol


def alert_index_rows() -> Iterator[RuleRow]:
    """Every active rule, with the symbol ids it covers (a watchlist's at this moment; ALL for every symbol)."""
    rules = AlertRule.objects.filter(is_active=True)
    members = defaultdict(list)
    memberships = Watchlist.symbols.through.objects.filter(
        watchlist_id__in=rules.filter(target=AlertRule.Target.WATCHLIST).values("watchlist_id")
    )
    for watchlist_id, symbol_id in memberships.values_list("watchlist_id", "symbol_id").iterator(chunk_size=10_000):
        members[watchlist_id].append(symbol_id)
    columns = ("id", "kind", "target", "symbol_id", "watchlist_id", "value", "window_minutes", "field", "operator",
               "strategy")  # fmt: skip
    for rule_id, kind, target, symbol_id, watchlist_id, value, *rest in rules.values_list(*columns).iterator(
        chunk_size=10_000
    ):
        keys = {AlertRule.Target.SYMBOL: (symbol_id,), AlertRule.Target.ALL: (ALL,)}.get(target)
        keys = keys or tuple(members[watchlist_id])
        yield RuleRow(rule_id, kind, keys, None if value is None else float(value), *rest)


def alert_index_build() -> AlertIndex:
    return AlertIndex(alert_index_rows(), dict(Symbol.objects.tracked().values_list("symbol", "id")))


def price_references(window: int, minute_ms: int, symbol_ids: list[int]) -> dict[int, float]:
    """Each symbol's price as the minute `window` minutes before the minute `minute_ms` began: the close of the 1m
    candle that ended then (stored at least a minute ago), for a process that did not see it itself. Symbols
    without that candle are left out."""
    opened = datetime_from_ms(minute_ms - (window + 1) * MINUTE_MS)
    closes = Candle.objects.filter(open_time=opened, symbol_id__in=symbol_ids).values_list(
        "symbol_id", "close", "price_scale"
    )
    return {symbol_id: close / 10**scale for symbol_id, close, scale in closes}


def snapshots_for_alerts(*, symbol_ids: list[int], timeframes: Iterable[str]) -> list[tuple[int, str, str, dict]]:
    """(symbol id, timeframe, computed at, values) of these symbols' snapshots."""
    rows = Snapshot.objects.filter(symbol_id__in=symbol_ids, timeframe__in=list(timeframes))
    return [
        (symbol_id, timeframe, computed_at.isoformat(), values)
        for symbol_id, timeframe, computed_at, values in rows.values_list(
            "symbol_id", "timeframe", "computed_at", "values"
        )
    ]


def strategy_signals(*, signal_ids: list[int]) -> list[tuple[str, int, int, dict]]:
    """(strategy name, symbol id, signal id, values) of strategies' signals."""
    from apps.strategies.models import Signal

    rows = Signal.objects.filter(id__in=signal_ids).values_list("strategy__name", "symbol_id", "id", "timeframe",
                                                                "open_time", "values")  # fmt: skip
    return [
        (name, symbol_id, signal_id, {"timeframe": timeframe, "open_time": open_time.isoformat(), "conditions": values})
        for name, symbol_id, signal_id, timeframe, open_time, values in rows
    ]


def telegram_destinations(*, user_ids: Iterable[int], now: datetime | None = None) -> dict[int, list[int]]:
    """Each user's linked Telegram chats that are not muted: where their alerts go."""
    from apps.telegram.models import TelegramChat

    now = now or timezone.now()
    chats = TelegramChat.objects.filter(user_id__in=list(user_ids)).filter(
        Q(muted_until__isnull=True) | Q(muted_until__lte=now)
    )
    destinations = defaultdict(list)
    for user_id, chat_id in chats.order_by("chat_id").values_list("user_id", "chat_id"):
        destinations[user_id].append(chat_id)
    return destinations


def alert_rule_list(*, owner_id: int) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(owner_id=owner_id).select_related("symbol", "watchlist")


def alert_event_list(*, user_id: int) -> QuerySet[AlertEvent]:
    return AlertEvent.objects.filter(user_id=user_id).select_related("symbol").prefetch_related("deliveries")
