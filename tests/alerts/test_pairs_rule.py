"""A pairs rule fires when the z-score of the spread of its symbol against another crosses its value from one
closed candle to the next (issue 7's pairs condition, evaluated as snapshots are updated)."""

import pytest
from django.core.exceptions import ValidationError

from apps.alerts.models import AlertEvent, AlertRule
from apps.alerts.services import alert_pairs_evaluate
from apps.analytics.selectors import pair_zscores_latest
from apps.market.intervals import INTERVALS
from tests.alerts.factories import AlertRuleFactory
from tests.analytics.conftest import store, up_to_the_hour_shift

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

WINDOW = 48


@pytest.fixture
def pair():
    shift = up_to_the_hour_shift()
    btc, eth = store("BTCUSDT", shift=shift), store("ETHUSDT", shift=shift)
    return btc, eth, pair_zscores_latest(a_id=btc.id, b_id=eth.id, interval=INTERVALS["1h"], window=WINDOW)


def pairs_rule(btc, eth, value: float) -> AlertRule:
    return AlertRuleFactory(symbol=btc, kind=AlertRule.Kind.PAIR_ZSCORE, value=value, pair_symbol=eth,
                            pair_timeframe="1h", pair_window=WINDOW)  # fmt: skip


def test_a_crossing_between_the_two_newest_candles_fires_once(pair):
    btc, eth, zscores = pair
    rule = pairs_rule(btc, eth, round((zscores.previous + zscores.newest) / 2, 6))

    alert_pairs_evaluate(symbol_ids=[eth.id], timeframes=["1h"])
    alert_pairs_evaluate(symbol_ids=[btc.id], timeframes=["1h"])  # the same candle again

    [event] = AlertEvent.objects.filter(rule=rule)
    assert event.values == {"zscore": zscores.newest, "previous_zscore": zscores.previous}
    assert "crosses" in event.message


def test_a_value_beyond_both_z_scores_does_not_fire(pair):
    btc, eth, zscores = pair
    pairs_rule(btc, eth, max(zscores.previous, zscores.newest) + 1)

    assert alert_pairs_evaluate(symbol_ids=[btc.id], timeframes=["1h"]) == []


def test_another_timeframes_update_does_not_look_at_it(pair):
    btc, eth, zscores = pair
    pairs_rule(btc, eth, round((zscores.previous + zscores.newest) / 2, 6))

    assert alert_pairs_evaluate(symbol_ids=[btc.id], timeframes=["4h"]) == []


def test_a_pair_of_a_symbol_with_itself_is_refused(pair):
    btc, _, _ = pair
    rule = AlertRule(owner=AlertRuleFactory().owner, symbol=btc, kind=AlertRule.Kind.PAIR_ZSCORE, value=2,
                     pair_symbol=btc, pair_timeframe="1h", pair_window=WINDOW, websocket=True)  # fmt: skip

    with pytest.raises(ValidationError, match="other leg"):
        rule.full_clean()
