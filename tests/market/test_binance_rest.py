import pytest

from apps.market.binance.rest import Banned, BinanceError, BinanceRest, UnknownSymbol
from apps.market.services.symbols import symbols_sync

JAN_1_2020_MS = 1577836800000


def _klines(rest: BinanceRest) -> list[list]:
    return rest.klines(symbol="BTCUSDT", start_ms=JAN_1_2020_MS, end_ms=JAN_1_2020_MS + 3_600_000)


def test_it_retries_a_burst_of_server_errors(rest, exchange):
    exchange.fail_next(3, status=503)

    assert len(_klines(rest)) == 61
    assert [request.status for request in exchange.requests] == [503, 503, 503, 200]


def test_it_retries_a_dropped_connection(rest, exchange):
    exchange.drop_next(1)

    assert len(_klines(rest)) == 61


def test_it_gives_up_after_its_retries_with_a_transient_error(exchange, budget):
    exchange.fail_next(10, status=500)
    with (
        BinanceRest(base_url=exchange.rest_url, budget=budget, max_retries=2, sleep=lambda s: None) as rest,
        pytest.raises(BinanceError) as raised,
    ):
        _klines(rest)

    assert not raised.value.permanent
    assert len(exchange.requests) == 3


def test_an_unknown_symbol_is_a_permanent_error(rest, exchange):
    with pytest.raises(UnknownSymbol) as raised:
        rest.klines(symbol="NOPEUSDT", start_ms=JAN_1_2020_MS, end_ms=JAN_1_2020_MS + 60_000)

    assert raised.value.permanent
    assert raised.value.code == -1121
    assert len(exchange.requests) == 1, "a permanent error is not retried"


def test_it_reads_the_exchanges_weight_header_into_the_shared_budget(rest, exchange, budget):
    _klines(rest)

    assert budget.store.add(int(__import__("time").time() // 60), 0) >= exchange.used_weight


def test_after_a_429_everyone_pauses_for_retry_after_and_it_never_gets_banned(exchange, budget):
    exchange.retry_after = 1
    exchange.weight_limit = exchange.used_weight + 2  # room for one klines request in this minute
    with BinanceRest(base_url=exchange.rest_url, budget=budget, max_retries=0, sleep=lambda s: None) as rest:
        _klines(rest)
        with pytest.raises(BinanceError):
            _klines(rest)

    assert exchange.requests[-1].status == 429
    assert budget.store.paused_until() > 0
    assert not exchange.banned


def test_a_418_stops_it_at_once_and_pauses_every_process(exchange, budget):
    exchange.fail_next(1, status=418)
    with (
        BinanceRest(base_url=exchange.rest_url, budget=budget, sleep=lambda s: None) as rest,
        pytest.raises(Banned) as raised,
    ):
        _klines(rest)

    assert raised.value.permanent
    assert len(exchange.requests) == 1
    assert budget.store.paused_until() > raised.value.until - 5


@pytest.mark.django_db
def test_symbol_sync_keeps_spot_pairs_of_the_configured_quote_assets(rest):
    synced = symbols_sync(rest=rest)

    assert [(s.symbol, s.status, str(s.tick_size), str(s.step_size)) for s in synced] == [
        ("BTCUSDT", "TRADING", "0.01000000", "0.00001000")
    ]


def test_a_garbled_answer_is_retried_not_trusted(rest, exchange):
    exchange.garble_next(2)

    assert len(_klines(rest)) == 61
    assert [request.status for request in exchange.requests] == [200, 200, 200]
