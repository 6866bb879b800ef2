"""Conditions evaluated for many symbols at once: each leaf is a few numpy operations over arrays with one entry per
symbol (NaN where a value is missing, which never matches), and "all"/"any" combine their masks.

The inputs come from `Inputs`: a field's values on the snapshot's candle or N candles before it, and the price change
over the last N minutes. What to read is known beforehand (`needs`), so that it is read in a few queries.
"""

from collections.abc import Callable, Iterator
from typing import NamedTuple, Protocol

import numpy as np

Values = dict[str, np.ndarray]  # name -> one value per symbol


class Outcome(NamedTuple):
    matched: np.ndarray  # bool, one per symbol
    values: Values  # what the conditions looked at


class Need(NamedTuple):
    """A field `back` candles before the snapshot's own (0: the snapshot's candle), or with `field` None, the price
    change over the last `minutes` 1m candles."""

    field: str | None
    back: int = 0
    minutes: int = 0


class Inputs(Protocol):
    def value(self, field: str, back: int) -> np.ndarray: ...

    def price_change(self, minutes: int) -> np.ndarray: ...


_COMPARE: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "lt": np.less, "lte": np.less_equal, "gt": np.greater, "gte": np.greater_equal,
}  # fmt: skip


def _leaves(node: dict) -> Iterator[dict]:
    if "kind" in node:
        yield node
    else:
        for child in next(iter(node.values())):
            yield from _leaves(child)


def _cross_needs(leaf: dict) -> list[Need]:
    fields = [leaf["field"], *([leaf["other_field"]] if "other_field" in leaf else [])]
    return [Need(field, back) for field in fields for back in (0, 1)]


_NEEDS: dict[str, Callable[[dict], list[Need]]] = {
    "threshold": lambda leaf: [Need(leaf["field"])],
    "cross": _cross_needs,
    "change": lambda leaf: [Need(leaf["field"]), Need(leaf["field"], leaf["candles"])],
    "volume_spike": lambda leaf: [Need("volume"), Need("volume_sma_20")],
    "price_change": lambda leaf: [Need(None, minutes=leaf["minutes"])],
}


def needs(conditions: dict) -> set[Need]:
    """What evaluating these (bound) conditions reads."""
    return {need for leaf in _leaves(conditions) for need in _NEEDS[leaf["kind"]](leaf)}


def _percent_change(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Against the size of the earlier value, so that a rise is positive for negative values too (a MACD line)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before == 0, np.nan, (now - before) / np.abs(before) * 100)


def _threshold(leaf: dict, inputs: Inputs) -> Outcome:
    value = inputs.value(leaf["field"], 0)
    return Outcome(_COMPARE[leaf["op"]](value, leaf["value"]), {leaf["field"]: value})


def _cross(leaf: dict, inputs: Inputs) -> Outcome:
    field, other = leaf["field"], leaf.get("other_field")
    now, before = inputs.value(field, 0), inputs.value(field, 1)
    values = {field: now, f"{field}_previous": before}
    if other is None:
        other_now = other_before = leaf["value"]
    else:
        other_now, other_before = inputs.value(other, 0), inputs.value(other, 1)
        values |= {other: other_now, f"{other}_previous": other_before}
    if leaf["direction"] == "above":
        matched = (before <= other_before) & (now > other_now)
    else:
        matched = (before >= other_before) & (now < other_now)
    return Outcome(matched, values)


def _change(leaf: dict, inputs: Inputs) -> Outcome:
    field, candles = leaf["field"], leaf["candles"]
    now, before = inputs.value(field, 0), inputs.value(field, candles)
    change = _percent_change(now, before)
    values = {field: now, f"{field}_{candles}_ago": before, f"{field}_change_{candles}": change}
    return Outcome(_COMPARE[leaf["op"]](change, leaf["percent"]), values)


def _volume_spike(leaf: dict, inputs: Inputs) -> Outcome:
    volume, average = inputs.value("volume", 0), inputs.value("volume_sma_20", 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(average > 0, volume / average, np.nan)
    return Outcome(ratio >= leaf["factor"], {"volume": volume, "volume_sma_20": average, "volume_ratio": ratio})


def _price_change(leaf: dict, inputs: Inputs) -> Outcome:
    change = inputs.price_change(leaf["minutes"])
    return Outcome(_COMPARE[leaf["op"]](change, leaf["percent"]), {f"price_change_{leaf['minutes']}m": change})


_LEAVES: dict[str, Callable[[dict, Inputs], Outcome]] = {
    "threshold": _threshold, "cross": _cross, "change": _change, "volume_spike": _volume_spike,
    "price_change": _price_change,
}  # fmt: skip


def conditions_evaluate(conditions: dict, inputs: Inputs) -> Outcome:
    """Which symbols these (bound, valid) conditions hold for, and the values they looked at."""
    if "kind" in conditions:
        return _LEAVES[conditions["kind"]](conditions, inputs)
    [(combinator, children)] = conditions.items()
    outcomes = [conditions_evaluate(child, inputs) for child in children]
    combine = np.logical_and if combinator == "all" else np.logical_or
    values = {name: value for outcome in outcomes for name, value in outcome.values.items()}
    return Outcome(combine.reduce([outcome.matched for outcome in outcomes]), values)
