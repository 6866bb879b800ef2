"""What a strategy may say: its conditions (a small tree) and its parameters, checked alike for the model's clean()
and the API's serializer, every mistake reported with where it is.

A node is {"all": [node, ...]} (every one holds), {"any": [node, ...]} (at least one does), or a leaf:

- {"kind": "threshold", "field": "rsi_14", "op": "lt", "value": 30}
- {"kind": "cross", "field": "macd", "direction": "above", "other_field": "macd_signal"}, or "value": 0 instead of
  "other_field": on the previous candle the field was at or below the other (at or above, for "below"), now it is
  above it (below it)
- {"kind": "change", "field": "close", "candles": 3, "op": "gte", "percent": 5}: the percent change of the field over
  the last N candles
- {"kind": "volume_spike", "factor": 3}: the candle's volume is at least `factor` times its 20-period average
- {"kind": "price_change", "minutes": 15, "op": "gte", "percent": 5}: the percent change of the price over the last
  N one-minute candles

Fields are the indicator outputs (apps.indicators.registry.OUTPUTS: `rsi_14`, `macd_signal`, `ema_200`, ...) and
the candle's own `open`, `high`, `low`, `close` and `volume`. Any number in a leaf may instead be {"param": "name"}:
the strategy's parameter of that name (`parameters` maps names to numbers, each used somewhere).
"""

import re
from collections.abc import Callable, Iterator

from apps.indicators.registry import OUTPUTS

CANDLE_FIELDS = ("open", "high", "low", "close", "volume")
FIELDS = frozenset(OUTPUTS) | frozenset(CANDLE_FIELDS)
OPS = ("lt", "lte", "gt", "gte")
DIRECTIONS = ("above", "below")
# Each distinct look-back is one more open time read from the indicator history (of a candle field: one more query
# of a bucket of candles).
MAX_CANDLES_BACK = 500
# A price change reads every 1m candle of its window for each symbol: 240 x 500 symbols is 120,000 rows.
MAX_MINUTES = 240
MAX_DEPTH = 4
MAX_LEAVES = 20
_PARAMETER_NAME = re.compile(r"[A-Za-z_]\w{0,49}")

# kind -> its keys; a cross takes exactly one of "value" and "other_field".
LEAF_KEYS = {
    "threshold": ("field", "op", "value"),
    "cross": ("field", "direction", "value", "other_field"),
    "change": ("field", "candles", "op", "percent"),
    "volume_spike": ("factor",),
    "price_change": ("minutes", "op", "percent"),
}


def _is_number(value: object) -> bool:
    # Finite, and (an int) within a float's range: JSON has integers of any size.
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e300


def _count(low: int, high: int) -> Callable[[float], str | None]:
    def check(value: float) -> str | None:
        return None if isinstance(value, int) and low <= value <= high else f"must be a whole number {low} to {high}"

    return check


_NUMBER_CHECKS: dict[str, Callable[[float], str | None]] = {
    "value": lambda value: None,
    "percent": lambda value: None,
    "factor": lambda value: None if value > 0 else "must be above 0",
    "candles": _count(1, MAX_CANDLES_BACK),
    "minutes": _count(1, MAX_MINUTES),
}
_CHOICES = {"field": FIELDS, "other_field": FIELDS, "op": frozenset(OPS), "direction": frozenset(DIRECTIONS)}


def _choice_error(key: str, value: object) -> str | None:
    if isinstance(value, str) and value in _CHOICES[key]:
        return None
    return f"{value!r} is not one of {', '.join(sorted(_CHOICES[key]))}"


class _Checker:
    def __init__(self, parameters: dict) -> None:
        self.parameters = parameters
        self.used: set[str] = set()
        self.leaves = 0

    def node(self, node: object, path: str, depth: int) -> Iterator[str]:
        if not isinstance(node, dict):
            yield f'{path}: a condition is an object: {{"all": [...]}}, {{"any": [...]}} or a leaf with "kind"'
        elif "kind" in node:
            yield from self.leaf(node, path)
        elif len(node) != 1 or next(iter(node)) not in ("all", "any"):
            yield f'{path}: give exactly one of "all", "any" or "kind", not {sorted(node)}'
        else:
            yield from self.group(node, path, depth)

    def group(self, node: dict, path: str, depth: int) -> Iterator[str]:
        [(combinator, children)] = node.items()
        path = f"{path}.{combinator}"
        if not isinstance(children, list) or not children:
            yield f"{path}: a non-empty list of conditions"
        elif depth >= MAX_DEPTH:
            yield f"{path}: conditions nest at most {MAX_DEPTH} deep"
        else:
            for index, child in enumerate(children):
                yield from self.node(child, f"{path}[{index}]", depth + 1)

    def leaf(self, leaf: dict, path: str) -> Iterator[str]:
        self.leaves += 1
        kind = leaf["kind"]
        if not isinstance(kind, str) or kind not in LEAF_KEYS:
            yield f"{path}.kind: {kind!r} is not one of {', '.join(LEAF_KEYS)}"
            return
        allowed = LEAF_KEYS[kind]
        for key in sorted(leaf.keys() - {"kind", *allowed}):
            yield f"{path}.{key}: not a key of a {kind} condition (keys: {', '.join(allowed)})"
        required = [key for key in allowed if key not in ("value", "other_field")] if kind == "cross" else allowed
        for key in required:
            if key not in leaf:
                yield f"{path}.{key}: required for a {kind} condition"
        if kind == "cross" and ("value" in leaf) == ("other_field" in leaf):
            yield f'{path}: a cross is of either a "value" or an "other_field"'
        for key in allowed:
            if key in leaf:
                problem = self.entry(key, leaf[key])
                if problem:
                    yield f"{path}.{key}: {problem}"

    def entry(self, key: str, value: object) -> str | None:
        return _choice_error(key, value) if key in _CHOICES else self.number(key, value)

    def number(self, key: str, value: object) -> str | None:
        if isinstance(value, dict) and value.keys() == {"param"}:
            name = value["param"]
            if not isinstance(name, str) or name not in self.parameters:
                return f"no parameter {name!r} (parameters: {', '.join(sorted(self.parameters)) or 'none'})"
            self.used.add(name)
            problem = _NUMBER_CHECKS[key](self.parameters[name]) if _is_number(self.parameters[name]) else None
            return f"parameter {name!r} {problem}" if problem else None
        if not _is_number(value):
            return f'{value!r} is not a number (nor {{"param": "name"}})'
        return _NUMBER_CHECKS[key](value)


def _parameter_errors(parameters: object) -> list[str]:
    if not isinstance(parameters, dict):
        return ["parameters are an object of names and numbers"]
    errors = []
    for name, value in parameters.items():
        if not _PARAMETER_NAME.fullmatch(name):
            errors.append(f"{name!r}: a name is a letter or _, then letters, digits or _ (50 at most)")
        if not _is_number(value):
            errors.append(f"{name!r}: {value!r} is not a number")
    return errors


def definition_errors(*, conditions: object, parameters: object) -> dict[str, list[str]]:
    """What is wrong with these conditions and parameters, by field ("conditions", "parameters"); {} when nothing.
    Paths start at `$`, the whole tree: `$.all[1].op`."""
    parameter_errors = _parameter_errors(parameters)
    checker = _Checker(parameters if isinstance(parameters, dict) else {})
    condition_errors = list(checker.node(conditions, "$", 1))
    if checker.leaves > MAX_LEAVES:
        condition_errors.append(f"$: at most {MAX_LEAVES} conditions, not {checker.leaves}")
    if not condition_errors:
        unused = sorted(checker.parameters.keys() - checker.used)
        parameter_errors += [f"{name!r}: not used by any condition" for name in unused]
    errors = {"conditions": condition_errors, "parameters": parameter_errors}
    return {field: messages for field, messages in errors.items() if messages}


def conditions_bound(conditions: dict, parameters: dict) -> dict:
    """The conditions with each {"param": name} replaced by the parameter's value."""
    if "kind" in conditions:
        return {key: parameters[value["param"]] if isinstance(value, dict) else value
                for key, value in conditions.items()}  # fmt: skip
    [(combinator, children)] = conditions.items()
    return {combinator: [conditions_bound(child, parameters) for child in children]}
