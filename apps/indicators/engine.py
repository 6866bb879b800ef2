"""The indicator engine: every registered indicator over one series, and the latest values as a snapshot."""

import math

import numpy as np

from apps.indicators.registry import INDICATORS, OUTPUTS, Arrays, Series


def indicators_compute(series: Series) -> Arrays:
    """Each output column over the whole series; NaN wherever there is too little history for a true value."""
    columns: Arrays = {}
    for indicator in INDICATORS:
        columns.update(indicator.function(series))
    return {name: np.asarray(columns[name], dtype=np.float64) for name in OUTPUTS}


def snapshot_at(columns: Arrays, index: int) -> dict[str, float | None]:
    """The values at candle `index` as JSON-ready numbers; missing history becomes null, never a made-up number."""
    return {name: _number(values[index]) for name, values in columns.items()}


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
