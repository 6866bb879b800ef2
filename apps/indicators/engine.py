"""The indicator engine: every registered indicator over one series (the full computation), the state it leaves
for the incremental path, and the incremental step itself over many symbols at once."""

import math

import numpy as np

from apps.indicators.registry import INDICATORS, OUTPUTS, Arrays, Candles, Series, State, States


def indicators_compute(series: Series) -> Arrays:
    """Each output column over the whole series, in the order of OUTPUTS; NaN wherever there is too little history
    for a true value."""
    columns: Arrays = {}
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero range or volume makes NaN, which means "none"
        for indicator in INDICATORS:
            columns.update(indicator.function(series))
    return columns


def anchored(columns: Arrays, previous: State, index: int) -> None:
    """Make columns computed over a window continue the values `previous` (the state an earlier computation left
    at candle `index`) instead of starting afresh where the window starts.

    A window slides by a candle each time, and the EMA(200) and OBV remember where theirs started: anchored, the
    values are the same whichever window computed them, so the full and the incremental paths agree.
    """
    for indicator in INDICATORS:
        if indicator.anchor is not None:
            indicator.anchor(columns, previous, index)


def state_at_end(series: Series, columns: Arrays) -> State:
    """What the incremental step needs to go on from the series' last candle."""
    state = {"last_close": float(series.close[-1]), "last_high": float(series.high[-1]),
             "last_low": float(series.low[-1])}  # fmt: skip
    for indicator in INDICATORS:
        state.update(indicator.state(series, {name: columns[name] for name in indicator.outputs}))
    return state


# What every state holds: those of a series too short for any value (all NaN) have every name too.
STATE_NAMES = frozenset(
    state_at_end(Series(*(np.ones(1) for _ in range(5)), candles_per_day=1), dict.fromkeys(OUTPUTS, np.full(1, np.nan)))
)


def outputs_step(states: States, candles: Candles) -> Arrays:
    """Every output column for one newer candle of each symbol, from their states: O(1) per symbol."""
    columns: Arrays = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for indicator in INDICATORS:
            columns.update(indicator.step(states, candles))
    return {name: columns[name] for name in OUTPUTS}


def snapshot_at(columns: Arrays, index: int) -> dict[str, float | None]:
    """The values at candle `index` as JSON-ready numbers; missing history becomes null, never a made-up number."""
    values = [column.item(index) for column in columns.values()]
    return {name: value if -math.inf < value < math.inf else None for name, value in zip(columns, values, strict=True)}
