"""Each kind of condition, and "all"/"any", evaluated on crafted snapshots, history and candles."""

import pytest

from apps.strategies.models import Signal
from tests.market.factories import SymbolFactory
from tests.strategies.factories import (
    CANDLE,
    FOUR_HOURS,
    StrategyFactory,
    evaluate,
    fired_for,
    history,
    minute,
    signals_of,
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

MINUTE = FOUR_HOURS / 240


@pytest.fixture
def symbols():
    return [SymbolFactory(symbol=name) for name in ("AAAUSDT", "BBBUSDT", "CCCUSDT")]


def test_a_threshold_holds_where_the_value_is_beyond_it_and_never_where_it_is_missing(symbols):
    strategy = StrategyFactory(conditions={"kind": "threshold", "field": "rsi_14", "op": "lt", "value": 30})
    for symbol, rsi in zip(symbols, (25.0, 35.0, None), strict=True):
        snapshot(symbol, {"rsi_14": rsi})

    evaluate(*symbols)

    assert fired_for(strategy) == ["AAAUSDT"]
    assert signals_of(strategy)[0].values == {"rsi_14": 25.0}


@pytest.mark.parametrize(("op", "fired"), [("lt", []), ("lte", ["AAAUSDT"]), ("gt", []), ("gte", ["AAAUSDT"])])
def test_each_operator_compares_as_named(symbols, op, fired):
    strategy = StrategyFactory(conditions={"kind": "threshold", "field": "adx_14", "op": op, "value": 25})
    snapshot(symbols[0], {"adx_14": 25.0})

    evaluate(symbols[0])

    assert fired_for(strategy) == fired


def test_a_cross_above_another_field_needs_it_below_on_the_previous_candle(symbols):
    strategy = StrategyFactory(
        conditions={"kind": "cross", "field": "macd", "direction": "above", "other_field": "macd_signal"}
    )
    crossing, already_above, still_below = symbols
    for symbol, before, now in ((crossing, (-1.0, 0.5), (2.0, 1.0)), (already_above, (1.0, 0.5), (2.0, 1.0)),
                                (still_below, (-1.0, 0.5), (0.5, 1.0))):  # fmt: skip
        history(symbol, {"macd": before[0], "macd_signal": before[1]}, open_time=CANDLE - FOUR_HOURS)
        snapshot(symbol, {"macd": now[0], "macd_signal": now[1]})

    evaluate(*symbols)

    assert fired_for(strategy) == ["AAAUSDT"]
    assert signals_of(strategy)[0].values == {
        "macd": 2.0, "macd_previous": -1.0, "macd_signal": 1.0, "macd_signal_previous": 0.5,
    }  # fmt: skip


def test_a_cross_below_a_value(symbols):
    strategy = StrategyFactory(conditions={"kind": "cross", "field": "rsi_14", "direction": "below", "value": 50})
    for symbol, before, now in zip(symbols[:2], (55.0, 45.0), (48.0, 40.0), strict=True):
        history(symbol, {"rsi_14": before}, open_time=CANDLE - FOUR_HOURS)
        snapshot(symbol, {"rsi_14": now})

    evaluate(*symbols[:2])

    assert fired_for(strategy) == ["AAAUSDT"]
    assert signals_of(strategy)[0].values == {"rsi_14": 48.0, "rsi_14_previous": 55.0}


def test_a_cross_without_the_previous_candle_does_not_hold(symbols):
    strategy = StrategyFactory(conditions={"kind": "cross", "field": "rsi_14", "direction": "below", "value": 50})
    history(symbols[0], {"rsi_14": 55.0}, open_time=CANDLE - 2 * FOUR_HOURS)  # not the candle just before
    snapshot(symbols[0], {"rsi_14": 48.0})

    evaluate(symbols[0])

    assert fired_for(strategy) == []


def test_a_change_over_candles_compares_with_the_value_that_many_candles_back(symbols):
    strategy = StrategyFactory(conditions={"kind": "change", "field": "obv", "candles": 3, "op": "gte", "percent": 10})
    for symbol, before in zip(symbols[:2], (1000.0, 1050.0), strict=True):
        history(symbol, {"obv": before}, open_time=CANDLE - 3 * FOUR_HOURS)
        history(symbol, {"obv": 10.0}, open_time=CANDLE - FOUR_HOURS)  # in between: not what is compared
        snapshot(symbol, {"obv": 1100.0})

    evaluate(*symbols[:2])

    assert fired_for(strategy) == ["AAAUSDT"]
    assert signals_of(strategy)[0].values == pytest.approx({"obv": 1100.0, "obv_3_ago": 1000.0, "obv_change_3": 10.0})


def test_a_change_of_a_negative_value_is_a_rise_when_it_grows(symbols):
    strategy = StrategyFactory(conditions={"kind": "change", "field": "macd", "candles": 1, "op": "gte", "percent": 50})
    history(symbols[0], {"macd": -2.0}, open_time=CANDLE - FOUR_HOURS)
    snapshot(symbols[0], {"macd": -1.0})

    evaluate(symbols[0])

    assert signals_of(strategy)[0].values["macd_change_1"] == pytest.approx(50.0)


def test_a_change_of_the_close_reads_the_candles_of_the_timeframe(symbols):
    strategy = StrategyFactory(
        conditions={"kind": "change", "field": "close", "candles": 2, "op": "lte", "percent": -20}
    )
    for symbol, close in zip(symbols[:2], (75.0, 90.0), strict=True):
        minute(symbol, CANDLE - 2 * FOUR_HOURS, open=99.0, close=100.0)
        minute(symbol, CANDLE, open=99.0, close=98.0)
        minute(symbol, CANDLE + 10 * MINUTE, open=98.0, close=close)  # the candle closes with its last minute
        snapshot(symbol, {})

    evaluate(*symbols[:2])

    assert fired_for(strategy) == ["AAAUSDT"]
    assert signals_of(strategy)[0].values == pytest.approx(
        {"close": 75.0, "close_2_ago": 100.0, "close_change_2": -25.0}
    )


def test_a_volume_spike_compares_the_candles_volume_with_its_20_period_average(symbols):
    strategy = StrategyFactory(conditions={"kind": "volume_spike", "factor": 3})
    for symbol, volume, average in zip(symbols[:2], (200.0, 299.0), (60.0, 100.0), strict=True):
        minute(symbol, CANDLE, open=1.0, close=1.0, volume=volume / 2)
        minute(symbol, CANDLE + MINUTE, open=1.0, close=1.0, volume=volume / 2)
        snapshot(symbol, {"volume_sma_20": average})

    evaluate(*symbols[:2])

    assert fired_for(strategy) == ["AAAUSDT"]
    assert signals_of(strategy)[0].values == pytest.approx(
        {"volume": 200.0, "volume_sma_20": 60.0, "volume_ratio": 200.0 / 60.0}
    )


def test_a_price_change_runs_from_the_first_to_the_last_of_the_last_minutes(symbols):
    strategy = StrategyFactory(conditions={"kind": "price_change", "minutes": 15, "op": "gte", "percent": 5})
    end = CANDLE + FOUR_HOURS
    for symbol, close in zip(symbols[:2], (105.0, 104.0), strict=True):
        minute(symbol, end - 16 * MINUTE, open=50.0, close=100.0)  # before the window
        minute(symbol, end - 15 * MINUTE, open=100.0, close=101.0)
        minute(symbol, end - MINUTE, open=101.0, close=close)
        snapshot(symbol, {})

    evaluate(*symbols[:2])

    assert fired_for(strategy) == ["AAAUSDT"]
    assert signals_of(strategy)[0].values == pytest.approx({"price_change_15m": 5.0})


def test_a_forming_candle_is_evaluated_on_the_minutes_it_has_so_far(symbols):
    strategy = StrategyFactory(conditions={"kind": "price_change", "minutes": 2, "op": "gte", "percent": 5})
    minute(symbols[0], CANDLE, open=100.0, close=100.0)
    minute(symbols[0], CANDLE + MINUTE, open=100.0, close=106.0)
    minute(symbols[0], CANDLE + 2 * MINUTE, open=106.0, close=100.0)  # after the snapshot was written
    forming = snapshot(symbols[0], {}, candle_closed=False)
    type(forming).objects.filter(pk=forming.pk).update(computed_at=CANDLE + 2 * MINUTE)

    evaluate(symbols[0])

    [signal] = signals_of(strategy)
    assert (signal.open_time, signal.candle_closed) == (CANDLE, False)
    assert signal.values == pytest.approx({"price_change_2m": 6.0})


def test_all_holds_where_every_condition_does(symbols):
    strategy = StrategyFactory(conditions={"all": [
        {"kind": "threshold", "field": "rsi_14", "op": "lt", "value": 30},
        {"kind": "threshold", "field": "adx_14", "op": "gt", "value": 25},
    ]})  # fmt: skip
    for symbol, rsi, adx in zip(symbols, (20.0, 20.0, 40.0), (30.0, 20.0, 30.0), strict=True):
        snapshot(symbol, {"rsi_14": rsi, "adx_14": adx})

    evaluate(*symbols)

    assert fired_for(strategy) == ["AAAUSDT"]
    assert signals_of(strategy)[0].values == {"rsi_14": 20.0, "adx_14": 30.0}


def test_any_holds_where_one_condition_does(symbols):
    strategy = StrategyFactory(conditions={"any": [
        {"kind": "threshold", "field": "rsi_14", "op": "lt", "value": 30},
        {"kind": "threshold", "field": "rsi_14", "op": "gt", "value": 70},
    ]})  # fmt: skip
    for symbol, rsi in zip(symbols, (20.0, 50.0, 80.0), strict=True):
        snapshot(symbol, {"rsi_14": rsi})

    evaluate(*symbols)

    assert fired_for(strategy) == ["AAAUSDT", "CCCUSDT"]


def test_groups_nest(symbols):
    strategy = StrategyFactory(conditions={"all": [
        {"kind": "threshold", "field": "adx_14", "op": "gt", "value": 25},
        {"any": [
            {"kind": "threshold", "field": "rsi_14", "op": "lt", "value": 30},
            {"kind": "threshold", "field": "rsi_14", "op": "gt", "value": 70},
        ]},
    ]})  # fmt: skip
    for symbol, rsi, adx in zip(symbols, (80.0, 80.0, 50.0), (30.0, 20.0, 30.0), strict=True):
        snapshot(symbol, {"rsi_14": rsi, "adx_14": adx})

    evaluate(*symbols)

    assert fired_for(strategy) == ["AAAUSDT"]


def test_parameters_stand_in_for_the_numbers_they_name(symbols):
    strategy = StrategyFactory(
        conditions={"kind": "threshold", "field": "rsi_14", "op": "lt", "value": {"param": "level"}},
        parameters={"level": 40},
    )
    snapshot(symbols[0], {"rsi_14": 35.0})

    evaluate(symbols[0])

    assert fired_for(strategy) == ["AAAUSDT"]


def test_a_signal_is_of_the_snapshots_symbol_strategy_timeframe_and_candle(symbols):
    strategy = StrategyFactory()
    snapshot(symbols[0], {"rsi_14": 20.0})

    [signal_id] = evaluate(symbols[0])

    signal = Signal.objects.get(pk=signal_id)
    assert (signal.symbol, signal.strategy, signal.timeframe, signal.open_time, signal.candle_closed) == (
        symbols[0], strategy, "4h", CANDLE, True,
    )  # fmt: skip
