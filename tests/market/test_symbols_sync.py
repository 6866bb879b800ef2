import pytest

from apps.market.models import Symbol
from apps.market.services.backfill import tracked_symbol_chunks
from apps.market.services.symbols import symbols_rank_by_volume, symbols_sync
from fakes.market import FakeSymbol
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db


def test_a_new_symbol_starts_active_with_its_tick_and_step_sizes(rest):
    symbols_sync(rest=rest)

    btc = Symbol.objects.get(symbol="BTCUSDT")
    assert (btc.is_active, btc.status, btc.base_asset, btc.quote_asset) == (True, "TRADING", "BTC", "USDT")
    assert (str(btc.tick_size), str(btc.step_size)) == ("0.01000000", "0.00001000")


def test_pairs_on_other_quote_assets_are_left_out(rest, market):
    market.add_symbol(FakeSymbol("ETHBTC", "ETH", "BTC"), [])

    symbols_sync(rest=rest)

    assert list(Symbol.objects.values_list("symbol", flat=True)) == ["BTCUSDT"]


def test_the_operators_choice_to_deactivate_survives_a_sync(rest):
    symbols_sync(rest=rest)
    Symbol.objects.filter(symbol="BTCUSDT").update(is_active=False)

    symbols_sync(rest=rest)

    assert Symbol.objects.get(symbol="BTCUSDT").is_active is False


def test_a_symbol_gone_from_the_exchange_is_marked_delisted_and_kept(rest, market):
    market.add_symbol(FakeSymbol("LUNAUSDT", "LUNA", "USDT"), [])
    symbols_sync(rest=rest)
    del market.symbols["LUNAUSDT"]

    symbols_sync(rest=rest)

    assert Symbol.objects.get(symbol="LUNAUSDT").status == Symbol.Status.DELISTED
    assert list(Symbol.objects.tracked().values_list("symbol", flat=True)) == ["BTCUSDT"]


def test_a_halted_symbol_is_synced_but_not_tracked(rest, market):
    market.add_symbol(FakeSymbol("HALTUSDT", "HALT", "USDT", status="HALT"), [])

    symbols_sync(rest=rest)

    assert Symbol.objects.get(symbol="HALTUSDT").status == "HALT"
    assert not Symbol.objects.tracked().filter(symbol="HALTUSDT").exists()


def test_each_symbol_gets_its_24h_quote_volume_from_the_exchanges_tickers(rest, market, btc_truth):
    market.clock = lambda: int(btc_truth[-1][6]) + 1
    symbols_sync(rest=rest)

    symbols_rank_by_volume(rest=rest)

    expected = sum(float(row[7]) for row in btc_truth[-1440:])
    assert float(Symbol.objects.get(symbol="BTCUSDT").quote_volume_24h) == pytest.approx(expected)


def test_backfill_chunks_put_the_most_liquid_symbols_first():
    quiet, busy, busiest, unranked = (SymbolFactory(quote_volume_24h=volume) for volume in (10, 500, 900, None))

    chunks = tracked_symbol_chunks(first_chunk=2, chunk_size=1)

    assert chunks == [[busiest.id, busy.id], [quiet.id], [unranked.id]]
