import numpy as np
import pytest

from fakes.recorded import REST_SYMBOLS
from tests.analytics.conftest import recorded_log_closes, recorded_open_times, store, up_to_the_hour_shift

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]


def test_the_matrix_is_numpys_correlation_of_the_last_window_log_returns(client):
    shift = up_to_the_hour_shift()
    for name in REST_SYMBOLS:
        store(name, shift=shift)
    expected = np.corrcoef([np.diff(recorded_log_closes(name)[-49:]) for name in REST_SYMBOLS])

    body = client.get(f"/api/v1/analytics/correlation/?symbols={','.join(REST_SYMBOLS).lower()}&window=48").json()

    assert body["symbols"] == list(REST_SYMBOLS)
    open_times = recorded_open_times("BTCUSDT", shift=shift)
    assert (body["start"], body["end"]) == (open_times[-49], open_times[-1])  # the hour that has just closed last
    assert np.diag(body["matrix"]).tolist() == pytest.approx([1.0] * 8, rel=1e-12)
    assert np.array(body["matrix"]).ravel().tolist() == pytest.approx(expected.ravel().tolist(), rel=1e-9)


@pytest.fixture
def shift() -> int:
    """One shift for every symbol a test stores: computed again, it moves by an hour when an hour turns between."""
    return up_to_the_hour_shift()


@pytest.fixture
def btc_eth(shift):
    return store("BTCUSDT", shift=shift), store("ETHUSDT", shift=shift)


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("symbols=BTCUSDT", "symbols", "Give 2 to 50 symbols, not 1"),
        ("symbols=BTCUSDT,btcusdt", "symbols", "BTCUSDT repeated"),
        ("symbols=BTCUSDT,NOPEUSDT", "symbols", "Unknown symbol 'NOPEUSDT'"),
        (f"symbols={','.join(f'S{i}USDT' for i in range(51))}", "symbols", "not 51"),
        ("symbols=BTCUSDT,ETHUSDT&interval=2d", "interval", "not a valid choice"),
        ("symbols=BTCUSDT,ETHUSDT&window=1", "window", "greater than or equal to 2"),
        ("symbols=BTCUSDT,ETHUSDT&window=336", "window", "335 1h returns in common, fewer than window 336"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client, btc_eth, query, field, words):
    response = client.get(f"/api/v1/analytics/correlation/?{query}")

    assert response.status_code == 400
    assert words in " ".join(response.json()["error"]["fields"][field])


def test_a_symbol_with_constant_returns_is_a_400_naming_it(client, btc_eth, shift):
    store("BNBUSDT", shift=shift, flat_hours=14 * 24)

    response = client.get("/api/v1/analytics/correlation/?symbols=BTCUSDT,BNBUSDT,ETHUSDT")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["symbols"] == [
        "Constant returns over the window, no correlation: BNBUSDT."
    ]


def test_the_matrix_is_symmetric_with_exactly_1_on_its_diagonal(client, shift):
    for name in REST_SYMBOLS:
        store(name, shift=shift)

    matrix = np.array(
        client.get(f"/api/v1/analytics/correlation/?symbols={','.join(REST_SYMBOLS)}&window=48").json()["matrix"]
    )

    assert np.diag(matrix).tolist() == [1.0] * len(REST_SYMBOLS)
    assert (matrix == matrix.T).all()


def test_an_hour_one_symbol_misses_is_left_out_and_the_window_reaches_back_past_it(client, shift):
    last_hour = 14 * 24 - 1
    store("BTCUSDT", shift=shift)
    store("ETHUSDT", shift=shift, missing_hours=(last_hour - 9,))
    common = [index for index in range(14 * 24) if index != last_hour - 9][-49:]
    log_closes = [recorded_log_closes(name)[common] for name in ("BTCUSDT", "ETHUSDT")]

    body = client.get("/api/v1/analytics/correlation/?symbols=BTCUSDT,ETHUSDT&window=48").json()

    open_times = recorded_open_times("BTCUSDT", shift=shift)
    assert (body["start"], body["end"]) == (open_times[common[0]], open_times[common[-1]])
    assert body["matrix"][0][1] == pytest.approx(np.corrcoef(np.diff(log_closes))[0, 1], rel=1e-9)


def test_symbols_whose_data_stopped_long_ago_are_correlated_up_to_their_newest_common_candle(client):
    store("BTCUSDT")  # January 2025
    store("ETHUSDT")

    body = client.get("/api/v1/analytics/correlation/?symbols=BTCUSDT,ETHUSDT&window=48").json()

    assert (body["start"], body["end"]) == (recorded_open_times("BTCUSDT")[-49], recorded_open_times("BTCUSDT")[-1])
