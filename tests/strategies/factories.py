"""Strategies, and the snapshots, indicator history and candles they are evaluated on, crafted value by value.

Tests evaluate on 4h unless they are about a built-in strategy: no built-in is on 4h, so none fires beside the
strategy under test.
"""

from datetime import UTC, datetime, timedelta

import factory

from apps.indicators.models import IndicatorHistory, Snapshot
from apps.market.intervals import ms_from_datetime
from apps.market.models import Symbol
from apps.market.services.candles import candles_upsert
from apps.strategies.models import Signal, Strategy
from apps.strategies.services import signals_evaluate

CANDLE = datetime(2026, 1, 5, 8, tzinfo=UTC)  # a 4h candle's open, long closed
FOUR_HOURS = timedelta(hours=4)


class StrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Strategy

    name = factory.Sequence(lambda n: f"Strategy {n}")
    timeframe = "4h"
    conditions = {"kind": "threshold", "field": "rsi_14", "op": "lt", "value": 30}
    parameters = factory.LazyFunction(dict)


def snapshot(symbol: Symbol, values: dict, *, timeframe: str = "4h", open_time: datetime = CANDLE,
             candle_closed: bool = True) -> Snapshot:  # fmt: skip
    return Snapshot.objects.update_or_create(
        symbol=symbol, timeframe=timeframe,
        defaults={"open_time": open_time, "candle_closed": candle_closed, "values": values},
    )[0]  # fmt: skip


def history(symbol: Symbol, values: dict, *, open_time: datetime, timeframe: str = "4h") -> IndicatorHistory:
    return IndicatorHistory.objects.create(symbol=symbol, timeframe=timeframe, open_time=open_time, values=values)


def minute(symbol: Symbol, open_time: datetime, *, open: float, close: float, volume: float = 1.0) -> None:
    """One stored 1m candle; a candle of any timeframe made of such minutes opens and closes with them."""
    row = (symbol.id, ms_from_datetime(open_time), str(open), str(max(open, close)), str(min(open, close)),
           str(close), str(volume), str(volume * close), 1, "0", "0")  # fmt: skip
    candles_upsert(rows=[row])


def evaluate(*symbols: Symbol, timeframes: tuple[str, ...] = ("4h",)) -> list[int]:
    return signals_evaluate(symbol_ids=[symbol.id for symbol in symbols], timeframes=list(timeframes))


def signals_of(strategy: Strategy) -> list[Signal]:
    return list(Signal.objects.filter(strategy=strategy).select_related("symbol").order_by("symbol__symbol"))


def fired_for(strategy: Strategy) -> list[str]:
    return [signal.symbol.symbol for signal in signals_of(strategy)]
