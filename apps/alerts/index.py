"""The active rules, indexed by symbol and threshold, so that evaluating an update costs what can fire, not the number
of rules.

The rules a ticker can fire are in one sorted array (`Thresholds`) per measure (the price, the % change over a
window), by symbol and value; a falling rule is kept under its symbol's key offset by FALLING, its value negated, so
that falling through it is rising through that. A whole flush of tickers (every symbol's move, rising and falling,
under its own key and ALL) then takes one binary search per measure, and a second for the few moves that passed a
value, whatever the number of rules.
The indicator thresholds are searched the same way (per field and operator), against the snapshot's value;
strategies' signals are looked up by name. Watchlist rules are copied to each symbol of the list; rules on every
symbol are kept once, under ALL, and searched for each symbol (copied, they would multiply the index by the number
of symbols).

`LiveAlerts` is a process's evaluation: the index, rebuilt when the rules change (every change bumps a version in
the cache, shared by every process, which it reads at most every ALERTS_INDEX_REFRESH_SECONDS), and the previous
price and % change of each symbol that crossings are measured from. It only finds matches; firing them (cooldown,
one-time, events) is `alert_rules_fire`'s.
"""

import itertools
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

ALL = 0  # the key of rules on every symbol (symbol ids start at 1)
VERSION_KEY = "alerts:rules:version"
MINUTE_MS = 60_000
PRICE = 0  # the measure of price rules; a % change rule's is its window (minutes)
FALLING = 2**32  # added to the keys of falling rules, which share their measure's book with the rising ones
_NO_IDS = np.empty(0, dtype=np.int64)


class RuleRow(NamedTuple):
    """What the index needs of a rule: `keys` are its symbol ids (ALL for every symbol)."""

    id: int
    kind: str
    keys: tuple[int, ...]
    value: float | None
    window_minutes: int | None = None
    field: str = ""
    operator: str = ""
    strategy: str = ""


class Match(NamedTuple):
    """A rule whose condition a symbol met. `trigger` names what was seen (a ticker's time, a snapshot, a signal),
    so that seeing it again is recognised; `values` are the numbers that made it fire."""

    rule_id: int
    symbol_id: int
    trigger: str
    values: dict[str, Any]


class Thresholds:
    """Rules' values under many keys, as one sorted array of complex numbers `key + value·i`: numpy orders complex
    numbers by their real part, then their imaginary part, so that one exact binary search finds where a (key,
    value) pair belongs, for a whole batch of queries at once. (Built part by part: `key + value * 1j` would turn an
    infinite value into NaN.)"""

    def __init__(self, keys: Iterable[int], values: Iterable[float], rule_ids: Iterable[int]) -> None:
        pairs = _pairs(np.fromiter(keys, np.float64), np.fromiter(values, np.float64))
        order = np.argsort(pairs, kind="stable")
        self._pairs, self._rule_ids = pairs[order], np.fromiter(rule_ids, np.int64)[order]
        self.has_all = bool(len(pairs)) and self._pairs[0].real == ALL  # its smallest key is ALL

    def __len__(self) -> int:
        return len(self._rule_ids)

    def between(self, keys: np.ndarray, low: np.ndarray, high: np.ndarray, *, side: str) -> tuple[np.ndarray, ...]:
        """For each query, its key's rules with low < value <= high (side "right") or low <= value < high ("left"):
        (rule ids, index of the query of each)."""
        if not len(self):
            return _NO_IDS, _NO_IDS
        start = np.searchsorted(self._pairs, _pairs(keys, low), side=side)
        # Most queries find nothing: only those whose first pair from `low` on is within the range look for its end.
        first = self._pairs[np.minimum(start, len(self) - 1)]
        within = first.imag <= high if side == "right" else first.imag < high
        hits = np.flatnonzero((start < len(self)) & (first.real == keys) & within)
        if not len(hits):
            return _NO_IDS, _NO_IDS
        start = start[hits]
        counts = np.searchsorted(self._pairs, _pairs(keys[hits], high[hits]), side=side) - start
        query = np.repeat(hits, counts)
        offsets = np.arange(len(query)) - np.repeat(np.cumsum(counts) - counts, counts)
        return self._rule_ids[np.repeat(start, counts) + offsets], query


def _pairs(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    pairs = np.empty(len(keys), np.complex128)
    pairs.real, pairs.imag = keys, values
    return pairs


def _level_query(operator: str, value: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """The (low, high, side) of `Thresholds.between` that finds the thresholds `value <operator> threshold` meets."""
    infinite = np.full_like(value, np.inf)
    return {
        "lt": (value, infinite, "right"),  # value < t
        "lte": (value, infinite, "left"),  # value <= t
        "gt": (-infinite, value, "left"),  # t < value
        "gte": (-infinite, value, "right"),  # t <= value
    }[operator]


class AlertIndex:
    """The rules of every kind, by symbol and threshold. Built from scratch; never changed after."""

    def __init__(self, rules: Iterable[RuleRow], symbol_ids: dict[str, int]) -> None:
        from apps.screener.fields import indicator_fields

        self.symbol_ids = symbol_ids
        self.size = 0
        crossing = defaultdict(lambda: ([], [], []))  # per measure: keys, values, rule ids
        level = defaultdict(lambda: defaultdict(lambda: ([], [], [])))
        signals = defaultdict(lambda: defaultdict(list))
        for rule in rules:
            self.size += 1
            if rule.kind == "strategy_signal":
                for key in rule.keys:
                    signals[rule.strategy][key].append(rule.id)
            elif rule.kind == "indicator" and rule.field in indicator_fields():  # a timeframe no longer computed: none
                _add(level[rule.field][rule.operator], rule.keys, rule.value, rule.id)
            elif rule.kind == "percent_change":
                _add(crossing[rule.window_minutes], *_directed(rule.keys, rule.value, up=rule.value > 0), rule.id)
            if rule.kind in ("price_above", "price_crosses"):
                _add(crossing[PRICE], *_directed(rule.keys, rule.value, up=True), rule.id)
            if rule.kind in ("price_below", "price_crosses"):
                _add(crossing[PRICE], *_directed(rule.keys, rule.value, up=False), rule.id)
        self.crossing = {measure: Thresholds(*columns) for measure, columns in crossing.items()}
        self.windows = sorted(set(crossing) - {PRICE})
        # Per measure, the symbol keys its rules are under.
        self.keys = {measure: {key % FALLING for key in columns[0]} for measure, columns in crossing.items()}
        self.level = {name: {op: Thresholds(*cols) for op, cols in ops.items()} for name, ops in level.items()}
        self.signals = {name: dict(keys) for name, keys in signals.items()}

    def fields(self, timeframes: Iterable[str]) -> list[str]:
        """The indicator fields (`rsi_1h`) that rules watch on these timeframes."""
        from apps.screener.fields import indicator_fields

        wanted = set(timeframes)
        return [name for name in self.level if indicator_fields()[name][0] in wanted]


def _add(book: tuple[list, list, list], keys: Iterable[int], value: float, rule_id: int) -> None:
    keys = list(keys)
    book[0].extend(keys)
    book[1].extend([value] * len(keys))
    book[2].extend([rule_id] * len(keys))


def _directed(keys: tuple[int, ...], value: float, *, up: bool) -> tuple[Iterable[int], float]:
    """A crossing rule's keys and value in its measure's book: a falling one's keys are offset by FALLING and its
    value negated, so that falling through it is rising through that."""
    return (keys, value) if up else ((key + FALLING for key in keys), -value)


@dataclass
class _Series:
    """One number per symbol id (NaN: none yet)."""

    values: np.ndarray = field(default_factory=lambda: np.full(1, np.nan))

    def get(self, symbol_ids: np.ndarray) -> np.ndarray:
        self._fit(symbol_ids)
        return self.values[symbol_ids]

    def swap(self, symbol_ids: np.ndarray, new: np.ndarray) -> np.ndarray:
        """The numbers these symbols had, then remembers their new ones."""
        old = self.get(symbol_ids)
        self.values[symbol_ids] = new
        return old

    def _fit(self, symbol_ids: np.ndarray) -> None:
        if symbol_ids.max() >= len(self.values):
            grown = np.full(int(symbol_ids.max()) * 2 + 1, np.nan)
            grown[: len(self.values)] = self.values
            self.values = grown


References = Callable[[int, int, list[int]], dict[int, float]]


class LiveAlerts:
    """A process's evaluation of the rules. `load_index` builds an AlertIndex from the database; `references(window,
    minute_ms, symbol_ids)` gives the symbols' prices `window` minutes before the minute `minute_ms` (those it
    knows)."""

    def __init__(self, *, load_index: Callable[[], AlertIndex], references: References) -> None:
        self._load_index, self._references = load_index, references
        self._index: AlertIndex | None = None
        self._version: object = None
        self._checked_at = -math.inf
        self._prices = _Series()
        self._changes: dict[int, _Series] = defaultdict(_Series)
        # Each symbol's price as each recent minute began (its last before that minute's first flush), by symbol id.
        self._minute_starts: dict[int, np.ndarray] = {}
        # Per window: the minute its references are for, each symbol's (NaN: none), and whether it was read yet.
        self._reference_minute: dict[int, int] = {}
        self._reference: dict[int, _Series] = {}
        self._reference_read: dict[int, _Series] = {}

    @property
    def index(self) -> AlertIndex:
        """The index of the current rules, looked at again at most every ALERTS_INDEX_REFRESH_SECONDS."""
        now = time.monotonic()
        if self._index is None or now - self._checked_at >= settings.ALERTS_INDEX_REFRESH_SECONDS:
            self._checked_at = now
            version = rules_version()
            if version != self._version or self._index is None:
                self._index, self._version = self._load_index(), version
                logger.info("alert index built: %d rules in %.0f ms", self._index.size, (time.monotonic() - now) * 1000)
        return self._index

    def tickers(self, tickers: dict[str, dict]) -> list[Match]:
        """The price and % change rules the tickers fire: those whose value each symbol's price (or change) went
        through since its previous ticker. A symbol's first ticker in this process only sets where it starts."""
        index = self.index
        names = index.symbol_ids
        known = [(names[name], ticker["c"], ticker.get("event_time") or 0) for name, ticker in tickers.items()
                 if name in names]  # fmt: skip
        if not known:
            return []
        ids, texts, times = zip(*known, strict=True)
        # In id order: the binary searches then walk through the index in order.
        order = np.argsort(ids)
        symbol_ids = np.array(ids)[order]
        prices = np.fromiter(map(float, texts), np.float64, len(texts))[order]
        times = [times[at] for at in order.tolist()]
        minute_ms = max(times) // MINUTE_MS * MINUTE_MS
        self._minute_began(minute_ms, index.windows)
        moves = {PRICE: (self._prices.swap(symbol_ids, prices), prices)}
        references = {}
        for window in index.windows:
            references[window] = self._window_references(window, minute_ms, symbol_ids, index.keys[window])
            changes = (prices - references[window]) / references[window] * 100
            moves[window] = (self._changes[window].swap(symbol_ids, changes), changes)
        found = list(_crossings(index, symbol_ids, moves))
        if not found:
            return []
        # As Python floats, once: item by item, numpy scalars cost more than the rest of a match.
        numbers = {measure: (before.tolist(), after.tolist()) for measure, (before, after) in moves.items()}
        prices_then = {window: reference.tolist() for window, reference in references.items()}
        matches = []
        for rule_id, at, measure in found:
            before, after = numbers[measure][0][at], numbers[measure][1][at]
            if measure == PRICE:
                values = {"price": after, "previous_price": before}
            else:
                values = {"price": numbers[PRICE][1][at], "reference_price": prices_then[measure][at],
                          "change_percent": round(after, 6), "window_minutes": measure}  # fmt: skip
            matches.append(Match(rule_id, int(symbol_ids[at]), f"ticker:{times[at]}", values))
        return matches

    def snapshots(self, snapshots: list[tuple[int, str, str, dict]]) -> list[Match]:
        """The indicator rules that snapshots (symbol id, timeframe, computed at, values) meet."""
        from apps.screener.fields import indicator_fields

        matches = []
        for name, operators in self.index.level.items():
            timeframe, output = indicator_fields()[name]
            seen = [(symbol_id, values[output], computed) for symbol_id, frame, computed, values in snapshots
                    if frame == timeframe and values.get(output) is not None]  # fmt: skip
            if not seen:
                continue
            symbol_ids = np.array([symbol_id for symbol_id, _, _ in seen])
            numbers = np.array([number for _, number, _ in seen], dtype=np.float64)
            for operator, book in operators.items():
                low, high, side = _level_query(operator, numbers)
                for rule_id, at in _found(book, symbol_ids, low, high, side):
                    symbol_id, number, computed = seen[at]
                    trigger = f"snapshot:{timeframe}:{computed}"
                    matches.append(Match(rule_id, symbol_id, trigger, {"field": name, "value": number}))
        return matches

    def signals(self, signals: list[tuple[str, int, int, dict]]) -> list[Match]:
        """The strategy rules that new signals (strategy name, symbol id, signal id, values) fire."""
        matches = []
        for strategy, symbol_id, signal_id, values in signals:
            keys = self.index.signals.get(strategy, {})
            for rule_id in [*keys.get(symbol_id, ()), *keys.get(ALL, ())]:
                matches.append(Match(rule_id, symbol_id, f"signal:{signal_id}", {"strategy": strategy, **values}))
        return matches

    def _minute_began(self, minute_ms: int, windows: list[int]) -> None:
        """At a minute's first flush, remember each symbol's price as it began, for as long as a window looks back."""
        if self._minute_starts and minute_ms <= max(self._minute_starts):
            return
        self._minute_starts[minute_ms] = self._prices.values.copy()
        oldest = minute_ms - max(windows, default=0) * MINUTE_MS
        self._minute_starts = {minute: prices for minute, prices in self._minute_starts.items() if minute >= oldest}

    def _window_references(self, window: int, minute_ms: int, symbol_ids: np.ndarray, keys: set[int]) -> np.ndarray:
        """Each symbol's price as the minute `window` minutes back began (NaN where unknown): as this process saw it
        then, or else (a process younger than the window, a symbol it had not seen) through `references`, asked
        once a minute for the symbols that rules of the window cover."""
        if self._reference_minute.get(window) != minute_ms:
            self._reference_minute[window] = minute_ms
            self._reference[window], self._reference_read[window] = _Series(), _Series()
            seen = self._minute_starts.get(minute_ms - window * MINUTE_MS)
            if seen is not None:
                self._reference[window].values = seen.copy()
        reference, read = self._reference[window].get(symbol_ids), self._reference_read[window]
        unread = symbol_ids[np.isnan(reference) & np.isnan(read.get(symbol_ids))]
        if len(unread):
            read.swap(unread, np.zeros(len(unread)))
            wanted = [symbol_id for symbol_id in unread.tolist() if symbol_id in keys or ALL in keys]
            known = self._references(window, minute_ms, wanted) if wanted else {}
            if known:
                self._reference[window].swap(np.array(list(known)), np.array(list(known.values())))
                reference = self._reference[window].get(symbol_ids)
        return reference


def _crossings(index: AlertIndex, symbol_ids: np.ndarray, moves: dict[int, tuple[np.ndarray, np.ndarray]]):
    """(rule id, position of the symbol, measure) of every crossing rule that the moves (per measure: each symbol's
    number before and after) went through, rising or falling, under the symbol's key and ALL: one search of each
    measure's book. Only symbols whose number moved from one known value to another are searched."""
    for measure, book in index.crossing.items():
        before, after = moves[measure]
        at = np.flatnonzero((before != after) & ~np.isnan(before) & ~np.isnan(after))
        if not len(at):
            continue
        ids, before, after = symbol_ids[at], before[at], after[at]
        # Under ALL (when any rule is) and the symbols' own keys, rising then falling: in ascending key order, so that
        # each binary search starts where the one before it ended.
        under = [np.full(len(at), ALL), ids] if ALL in index.keys[measure] else [ids]
        keys = np.concatenate(under + [key + FALLING for key in under])
        low = np.concatenate([before] * len(under) + [-before] * len(under))
        high = np.concatenate([after] * len(under) + [-after] * len(under))
        rule_ids, query = book.between(keys, low, high, side="right")
        yield from zip(rule_ids.tolist(), at[query % len(at)].tolist(), itertools.repeat(measure))


def _found(book: Thresholds, symbol_ids: np.ndarray, low: np.ndarray, high: np.ndarray, side: str):
    """(rule id, position of the symbol) of the rules `book.between` finds for each symbol, under its own key and
    (when the book has any) under ALL."""
    count = len(symbol_ids)
    if book.has_all:
        symbol_ids, low, high = np.concatenate([symbol_ids, np.full(count, ALL)]), np.tile(low, 2), np.tile(high, 2)
    rule_ids, query = book.between(symbol_ids, low, high, side=side)
    return zip(rule_ids.tolist(), (query % count).tolist(), strict=True)


def rules_version() -> object:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)  # the first process to get here stamps it
        version = cache.get(VERSION_KEY)
    return version


def rules_changed() -> None:
    """Every process rebuilds its index within ALERTS_INDEX_REFRESH_SECONDS."""
    cache.set(VERSION_KEY, time.time_ns(), timeout=None)
