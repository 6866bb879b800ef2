"""The built-in strategies (written by a data migration), each on a symbol where it fires and one just short of it."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.strategies.models import Strategy
from tests.market.factories import SymbolFactory
from tests.strategies.factories import evaluate, fired_for, history, minute, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("built_in"), pytest.mark.timescaledb]

OPEN = datetime(2026, 1, 5, tzinfo=UTC)  # opens a candle of every timeframe
INTERVAL = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
MINUTE = timedelta(minutes=1)


def rsi(level: float):
    def craft(symbol, timeframe):
        snapshot(symbol, {"rsi_14": level}, timeframe=timeframe, open_time=OPEN)

    return craft


def crossing(field: str, other: str, before: tuple[float, float], now: tuple[float, float]):
    def craft(symbol, timeframe):
        history(symbol, {field: before[0], other: before[1]}, timeframe=timeframe, open_time=OPEN - INTERVAL[timeframe])
        snapshot(symbol, {field: now[0], other: now[1]}, timeframe=timeframe, open_time=OPEN)

    return craft


def closing(band: str, before: tuple[float, float], now: tuple[float, float]):
    """The close (from the candles) against a band (from the indicators)."""

    def craft(symbol, timeframe):
        minute(symbol, OPEN - INTERVAL[timeframe], open=before[0], close=before[0])
        history(symbol, {band: before[1]}, timeframe=timeframe, open_time=OPEN - INTERVAL[timeframe])
        minute(symbol, OPEN, open=before[0], close=now[0])
        snapshot(symbol, {band: now[1]}, timeframe=timeframe, open_time=OPEN)

    return craft


def pump(close: float, volume: float):
    """Fifteen minutes from an open of 100 to `close`, trading `volume` against an average of 10 a quarter-hour."""

    def craft(symbol, timeframe):
        minute(symbol, OPEN, open=100.0, close=101.0, volume=volume / 2)
        minute(symbol, OPEN + 14 * MINUTE, open=101.0, close=close, volume=volume / 2)
        snapshot(symbol, {"volume_sma_20": 10.0}, timeframe=timeframe, open_time=OPEN)

    return craft


BUILT_IN = {
    "RSI oversold": (rsi(29.0), rsi(30.0)),
    "RSI overbought": (rsi(71.0), rsi(70.0)),
    "MACD bullish cross": (
        crossing("macd", "macd_signal", (-0.1, 0.0), (0.2, 0.1)),
        crossing("macd", "macd_signal", (-0.1, 0.0), (0.05, 0.1)),
    ),
    "MACD bearish cross": (
        crossing("macd", "macd_signal", (0.1, 0.0), (-0.2, -0.1)),
        crossing("macd", "macd_signal", (0.1, 0.0), (-0.05, -0.1)),
    ),
    "Bollinger breakout up": (closing("bb_upper", (105.0, 110.0), (115.0, 112.0)),
                              closing("bb_upper", (105.0, 110.0), (111.0, 112.0))),
    "Bollinger breakout down": (closing("bb_lower", (95.0, 90.0), (85.0, 88.0)),
                                closing("bb_lower", (95.0, 90.0), (89.0, 88.0))),
    "EMA 50/200 golden cross": (
        crossing("ema_50", "ema_200", (99.0, 100.0), (101.0, 100.5)),
        crossing("ema_50", "ema_200", (99.0, 100.0), (100.0, 100.5)),
    ),
    "EMA 50/200 death cross": (
        crossing("ema_50", "ema_200", (101.0, 100.0), (99.0, 100.5)),
        crossing("ema_50", "ema_200", (101.0, 100.0), (101.0, 100.5)),
    ),
    "Pump Radar": (pump(close=105.0, volume=30.0), pump(close=104.9, volume=30.0)),
}  # fmt: skip


@pytest.mark.parametrize(("name", "fires", "short"), [(name, *crafts) for name, crafts in BUILT_IN.items()],
                         ids=list(BUILT_IN))  # fmt: skip
def test_a_built_in_strategy_fires_where_its_conditions_hold(name, fires, short):
    strategy = Strategy.objects.get(name=name)
    hit, miss = SymbolFactory(symbol="HITUSDT"), SymbolFactory(symbol="MISSUSDT")
    fires(hit, strategy.timeframe)
    short(miss, strategy.timeframe)

    evaluate(hit, miss, timeframes=(strategy.timeframe,))

    assert fired_for(strategy) == ["HITUSDT"]


def test_every_built_in_strategy_is_there_active_and_valid():
    strategies = Strategy.objects.filter(name__in=BUILT_IN)

    assert sorted(strategy.name for strategy in strategies if strategy.is_active) == sorted(BUILT_IN)
    for strategy in strategies:
        strategy.full_clean()


def test_pump_radar_wants_the_volume_too():
    strategy = Strategy.objects.get(name="Pump Radar")
    symbol = SymbolFactory(symbol="PUMPUSDT")
    pump(close=110.0, volume=29.0)(symbol, "15m")

    evaluate(symbol, timeframes=("15m",))

    assert fired_for(strategy) == []


def test_pump_radars_numbers_are_its_parameters():
    strategy = Strategy.objects.get(name="Pump Radar")
    strategy.parameters |= {"percent": 3, "volume_factor": 2}
    strategy.save(update_fields=["parameters"])
    symbol = SymbolFactory(symbol="PUMPUSDT")
    pump(close=103.0, volume=20.0)(symbol, "15m")

    evaluate(symbol, timeframes=("15m",))

    assert fired_for(strategy) == ["PUMPUSDT"]
