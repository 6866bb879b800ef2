import numpy as np
import pytest
import statsmodels.api as sm
from numpy.lib.stride_tricks import sliding_window_view
from statsmodels.tsa.stattools import adfuller

from apps.analytics.selectors import pair_zscores_latest
from apps.market.intervals import INTERVALS
from tests.analytics.conftest import (
    END_MS,
    FIRST_MS,
    recorded_log_closes,
    recorded_open_times,
    store,
    up_to_the_hour_shift,
)

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

WINDOW = 24
RANGE = f"start={FIRST_MS}&end={END_MS - 1}&limit=5000"


def close_to(values: list, expected) -> bool:
    """Nulls exactly where the expected values are NaN, the rest within 1e-9 relative."""
    defined = [value is not None for value in values]
    return defined == [not np.isnan(value) for value in expected] and [
        value for value in values if value is not None
    ] == pytest.approx([float(value) for value in expected if not np.isnan(value)], rel=1e-9, abs=1e-12)


def per_window(function, window: int, *series: np.ndarray) -> np.ndarray:
    """`function` of each full window one at a time, NaN before the first: the plainest rolling computation."""
    windows = [sliding_window_view(values, window) for values in series]
    return np.concatenate([np.full(window - 1, np.nan), [function(*rows) for rows in zip(*windows, strict=True)]])


def slope(y: np.ndarray, x: np.ndarray) -> float:
    return sm.OLS(y, sm.add_constant(x)).fit().params[1]


@pytest.fixture
def btc_eth():
    return store("BTCUSDT"), store("ETHUSDT")


def test_every_number_matches_statsmodels_and_numpy_on_binances_own_candles(client, btc_eth):
    log_a, log_b = recorded_log_closes("BTCUSDT"), recorded_log_closes("ETHUSDT")
    alpha, beta = sm.OLS(log_a, sm.add_constant(log_b)).fit().params
    spread = log_a - beta * log_b - alpha
    statistic, p_value, lags, observations, critical, _ = adfuller(spread, autolag="AIC", result_object=False)
    speed = sm.OLS(np.diff(spread), sm.add_constant(spread[:-1])).fit().params[1]
    returns_a, returns_b = np.diff(log_a), np.diff(log_b)

    body = client.get(f"/api/v1/analytics/pairs/?a=btcusdt&b=ETHUSDT&interval=1h&window={WINDOW}&{RANGE}").json()

    assert body["open_times"] == recorded_open_times("BTCUSDT")
    assert len(body["open_times"]) == 14 * 24
    assert (body["alpha"], body["beta"]) == (pytest.approx(alpha, rel=1e-9), pytest.approx(beta, rel=1e-9))
    assert close_to(body["spread"], spread)
    # One OLS per window: RollingOLS' default (method="inv") drifts from it by up to 5e-7 on these prices.
    assert close_to(body["hedge_ratio_rolling"], per_window(slope, WINDOW, log_a, log_b))
    assert close_to(body["zscore"], per_window(lambda s: (s[-1] - s.mean()) / s.std(ddof=1), WINDOW, spread))
    assert close_to(
        body["correlation"], [np.nan, *per_window(lambda x, y: np.corrcoef(x, y)[0, 1], WINDOW, returns_a, returns_b)]
    )
    assert body["adf"] == {
        "statistic": pytest.approx(statistic, rel=1e-9),
        "p_value": pytest.approx(p_value, rel=1e-9),
        "lags": lags,
        "observations": observations,
        "critical_values": {level: pytest.approx(critical[level], rel=1e-9) for level in ("1%", "5%", "10%")},
    }
    assert body["half_life"] == (pytest.approx(-np.log(2) / speed, rel=1e-9) if speed < 0 else None)


def test_series_are_null_until_the_window_is_full(client, btc_eth):
    body = client.get(f"/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&window={WINDOW}&{RANGE}").json()

    assert body["zscore"][: WINDOW - 1] == [None] * (WINDOW - 1) and None not in body["zscore"][WINDOW - 1 :]
    assert (
        body["hedge_ratio_rolling"].index(next(v for v in body["hedge_ratio_rolling"] if v is not None)) == WINDOW - 1
    )
    assert body["correlation"][:WINDOW] == [None] * WINDOW and None not in body["correlation"][WINDOW:]


def test_any_interval_is_rolled_up_from_the_stored_minutes(client, btc_eth):
    body = client.get(f"/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&interval=15m&window=96&{RANGE}").json()
    log_a, log_b = recorded_log_closes("BTCUSDT", "15m"), recorded_log_closes("ETHUSDT", "15m")

    assert len(body["open_times"]) == 14 * 96
    assert body["beta"] == pytest.approx(sm.OLS(log_a, sm.add_constant(log_b)).fit().params[1], rel=1e-9)


def test_with_a_start_it_takes_the_first_limit_candles_from_it(client, btc_eth):
    body = client.get("/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&start=2025-01-07T00:00:00Z&limit=48").json()

    assert body["open_times"] == recorded_open_times("BTCUSDT")[24:72]


def test_limit_counts_candles_that_exist_not_years_before_a_listing(client, btc_eth):
    body = client.get("/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&start=2020-01-01&limit=48").json()

    assert body["open_times"] == recorded_open_times("BTCUSDT")[:48]


def test_with_an_end_it_takes_the_last_limit_candles_up_to_it(client, btc_eth):
    body = client.get(f"/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&end={FIRST_MS + 47 * 3_600_000}&limit=30").json()

    assert body["open_times"] == recorded_open_times("BTCUSDT")[18:48]


def test_by_default_the_last_closed_candles_up_to_now(client):
    shift = up_to_the_hour_shift()
    store("BTCUSDT", shift=shift)
    store("ETHUSDT", shift=shift)

    body = client.get("/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT").json()

    assert body["open_times"] == recorded_open_times("BTCUSDT", shift=shift)  # all 336: fewer than 1000 exist


def test_without_start_the_candles_end_at_the_newest_both_have_however_old(client, btc_eth):
    body = client.get("/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&limit=48").json()

    assert body["open_times"] == recorded_open_times("BTCUSDT")[-48:]


def test_limit_counts_the_candles_both_have_not_the_hours_one_misses(client):
    store("BTCUSDT")
    store("ETHUSDT", missing_hours=(30,))

    body = client.get("/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&start=2025-01-06T00:00:00Z&limit=48").json()

    assert body["open_times"] == [t for i, t in enumerate(recorded_open_times("BTCUSDT")) if i != 30][:48]


def test_the_latest_zscores_for_alert_conditions_are_the_apis_last_two(client):
    shift = up_to_the_hour_shift()
    btc, eth = store("BTCUSDT", shift=shift), store("ETHUSDT", shift=shift)

    body = client.get("/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&window=48").json()

    latest = pair_zscores_latest(a_id=btc.id, b_id=eth.id, interval=INTERVALS["1h"], window=48)
    assert latest.open_ms == body["open_times"][-1]
    assert (latest.previous, latest.newest) == (pytest.approx(body["zscore"][-2], rel=1e-12),
                                                pytest.approx(body["zscore"][-1], rel=1e-12))  # fmt: skip
    assert pair_zscores_latest(a_id=btc.id, b_id=eth.id, interval=INTERVALS["1h"], window=400) is None


def test_a_flat_stretch_gives_nulls_not_numbers(client):
    store("BTCUSDT")
    store("ETHUSDT", flat_hours=40)

    body = client.get(f"/api/v1/analytics/pairs/?a=BTCUSDT&b=ETHUSDT&window={WINDOW}&{RANGE}").json()

    assert body["hedge_ratio_rolling"][:40] == [None] * 40 and body["hedge_ratio_rolling"][41] is not None
    assert body["correlation"][:40] == [None] * 40 and body["correlation"][41 + WINDOW] is not None


def _error(client, query: str) -> tuple[int, dict]:
    response = client.get(f"/api/v1/analytics/pairs/?{query}")
    return response.status_code, response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("a=BTCUSDT", "b", "required"),
        ("a=BTCUSDT&b=btcusdt", "b", "another symbol"),
        ("a=BTCUSDT&b=NOPEUSDT", "b", "Unknown symbol 'NOPEUSDT'"),
        ("a=BTCUSDT&b=ETHUSDT&interval=7m", "interval", "not a valid choice"),
        ("a=BTCUSDT&b=ETHUSDT&window=1", "window", "greater than or equal to 2"),
        (f"a=BTCUSDT&b=ETHUSDT&window=400&{RANGE}", "window", "longer than the 336 1h candles"),
        ("a=BTCUSDT&b=ETHUSDT&limit=5001", "limit", "less than or equal to 5000"),
        ("a=BTCUSDT&b=ETHUSDT&start=2025-01-08&end=2025-01-07", "start", "start is after end"),
        ("a=BTCUSDT&b=ETHUSDT&start=yesterday", "start", "epoch milliseconds or an ISO 8601"),
        ("a=BTCUSDT&b=ETHUSDT&start=2020-01-01&end=2020-02-01", "window", "longer than the 0 1h candles"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client, btc_eth, query, field, words):
    status, fields = _error(client, query)

    assert status == 400
    assert words in " ".join(fields[field])


def test_a_constant_series_is_a_400_naming_it(client, btc_eth):
    store("BNBUSDT", flat_hours=14 * 24)

    status, fields = _error(client, f"a=BNBUSDT&b=ETHUSDT&{RANGE}")

    assert status == 400
    assert "constant" in fields["a"][0]
