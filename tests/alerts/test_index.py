"""The index finds exactly what a loop over every rule would: checked against that loop on random rules and moves."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.alerts.index import ALL, AlertIndex, LiveAlerts, RuleRow, Thresholds

PRICES = st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 99.99, 100.0, 100.01])  # few values: many exact ties
SYMBOLS = {"AUSDT": 1, "BUSDT": 2, "CUSDT": 3}
KINDS = {"price_above": ("up",), "price_below": ("down",), "price_crosses": ("up", "down")}


def crossed(kind: str, value: float, before: float, after: float) -> bool:
    """The definition: rising to or through the value, or falling to or through it."""
    rose, fell = before < value <= after, after <= value < before
    return {"price_above": rose, "price_below": fell, "price_crosses": rose or fell}[kind]


rules = st.lists(
    st.tuples(st.sampled_from(sorted(KINDS)), PRICES, st.sampled_from([(1,), (2,), (1, 3), (ALL,)])), max_size=40
)
moves = st.lists(st.fixed_dictionaries({name: PRICES for name in SYMBOLS}), min_size=2, max_size=6)


@settings(max_examples=300, deadline=None)
@given(rules=rules, moves=moves)
def test_price_rules_fire_exactly_as_a_loop_over_every_rule_would(rules, moves):
    rows = [RuleRow(rule_id, kind, keys, value) for rule_id, (kind, value, keys) in enumerate(rules, start=1)]
    live = LiveAlerts(load_index=lambda: AlertIndex(rows, SYMBOLS), references=lambda *args: {})
    previous = None
    for prices in moves:
        tickers = {name: {"c": repr(price), "event_time": 1} for name, price in prices.items()}
        found = sorted((match.rule_id, match.symbol_id) for match in live.tickers(tickers))
        expected = sorted(
            (row.id, symbol_id)
            for row in rows
            for name, symbol_id in SYMBOLS.items()
            if previous and (symbol_id in row.keys or ALL in row.keys)
            and crossed(row.kind, row.value, previous[name], prices[name])
        )  # fmt: skip
        assert found == expected
        previous = prices


@settings(max_examples=200, deadline=None)
@given(
    thresholds=st.lists(st.tuples(st.sampled_from([1, 2]), PRICES), max_size=30),
    queries=st.lists(st.tuples(st.sampled_from([1, 2]), PRICES, PRICES), min_size=1, max_size=10),
    side=st.sampled_from(["left", "right"]),
)
def test_thresholds_between_finds_each_keys_values_in_the_interval(thresholds, queries, side):
    book = Thresholds([key for key, _ in thresholds], [value for _, value in thresholds], range(len(thresholds)))
    keys, low, high = (np.array(column) for column in zip(*queries, strict=True))

    rule_ids, query = book.between(keys, low, high, side=side)

    inside = (lambda v, lo, hi: lo < v <= hi) if side == "right" else (lambda v, lo, hi: lo <= v < hi)
    expected = sorted(
        (n, at) for at, (key, lo, hi) in enumerate(queries) for n, (k, v) in enumerate(thresholds)
        if k == key and inside(v, lo, hi)
    )  # fmt: skip
    assert sorted(zip(rule_ids.tolist(), query.tolist(), strict=True)) == expected


def test_level_rules_are_found_by_operator():
    rows = [RuleRow(n, "indicator", (1,), 30.0, field="rsi_1h", operator=op) for n, op in
            enumerate(["lt", "lte", "gt", "gte"], start=1)]  # fmt: skip
    live = LiveAlerts(load_index=lambda: AlertIndex(rows, SYMBOLS), references=lambda *args: {})

    def fired(rsi: float) -> list[int]:
        return sorted(match.rule_id for match in live.snapshots([(1, "1h", "t", {"rsi_14": rsi})]))

    assert fired(29.0) == [1, 2]
    assert fired(30.0) == [2, 4]
    assert fired(31.0) == [3, 4]
