from datetime import datetime

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from apps.strategies.models import Signal


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def signal_list(
    *, symbol_id: int | None = None, strategy_id: int | None = None, timeframe: str | None = None,
    since: datetime | None = None,
) -> QuerySet[Signal]:  # fmt: skip
    """Signals, newest first (by when they fired), optionally of one symbol, strategy or timeframe, or since a time."""
    signals = Signal.objects.select_related("symbol", "strategy").order_by("-created_at", "-id")
    if symbol_id is not None:
        signals = signals.filter(symbol_id=symbol_id)
    if strategy_id is not None:
        signals = signals.filter(strategy_id=strategy_id)
    if timeframe is not None:
        signals = signals.filter(timeframe=timeframe)
    if since is not None:
        signals = signals.filter(created_at__gte=since)
    return signals


def signal_data(signal: Signal) -> dict:
    """A signal as clients see it, on the `signals` stream as in the API."""
    return {
        "id": signal.id,
        "symbol": signal.symbol.symbol,
        "strategy": signal.strategy_id,
        "strategy_name": signal.strategy.name,
        "timeframe": signal.timeframe,
        "open_time": _iso(signal.open_time),
        "candle_closed": signal.candle_closed,
        "values": signal.values,
        "created_at": _iso(signal.created_at),
    }


def signals_payload(*, signal_ids: list[int]) -> list[dict]:
    """These signals as clients see them, by id."""
    signals = Signal.objects.filter(id__in=signal_ids).select_related("symbol", "strategy").order_by("id")
    return [signal_data(signal) for signal in signals]


def latest_signals(*, symbol_ids: list[int], limit_per_symbol: int) -> dict[int, list[dict]]:
    """Symbol id -> its newest signals (at most `limit_per_symbol`, newest first) as {"id", "strategy",
    "strategy_name", "timeframe", "open_time", "candle_closed", "created_at"}, for the screener's rows; one query.
    Symbols without signals are left out."""
    newest_first = [F("created_at").desc(), F("id").desc()]
    rows = (
        Signal.objects.filter(symbol_id__in=symbol_ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("symbol_id")], order_by=newest_first))
        .filter(rank__lte=limit_per_symbol)
        .order_by("symbol_id", "rank")
        .values_list("symbol_id", "id", "strategy_id", "strategy__name", "timeframe", "open_time", "candle_closed",
                     "created_at")
    )  # fmt: skip
    latest: dict[int, list[dict]] = {}
    for symbol_id, signal_id, strategy_id, strategy_name, timeframe, open_time, candle_closed, created_at in rows:
        latest.setdefault(symbol_id, []).append({
            "id": signal_id, "strategy": strategy_id, "strategy_name": strategy_name, "timeframe": timeframe,
            "open_time": _iso(open_time), "candle_closed": candle_closed, "created_at": _iso(created_at),
        })  # fmt: skip
    return latest
