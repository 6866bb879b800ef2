"""The indicator engine: every registered indicator over one series, and the latest values as a snapshot."""

import numpy as np

from apps.indicators.registry import INDICATORS, OUTPUTS, Arrays, Series


def indicators_compute(series: Series) -> Arrays:
    """Each output column over the whole series; NaN wherever there is too little history for a true value."""
    columns: Arrays = {}
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero range or volume makes NaN, which means "none"
        for indicator in INDICATORS:
            columns.update(indicator.function(series))
    return {name: columns[name] for name in OUTPUTS}


def snapshot_at(columns: Arrays, index: int) -> dict[str, float | None]:
    """The values at candle `index` as JSON-ready numbers; missing history becomes null, never a made-up number."""
    values = np.array([column[index] for column in columns.values()])
    known = np.isfinite(values).tolist()
    return {name: value if ok else None for name, value, ok in zip(columns, values.tolist(), known, strict=True)}
