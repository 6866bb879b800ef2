import pytest

from apps.market.models import Symbol
from apps.market.services.candles import candles_upsert
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/market/symbol/"


def test_the_symbol_list_shows_each_symbols_last_candle_time(admin_client):
    symbol = SymbolFactory(symbol="BTCUSDT")
    row = (symbol.id, 1577836800000, "1.0", "1.0", "1.0", "1.0", "1.0", "1.0", 1, "0.5", "0.5")
    candles_upsert(rows=[row, (symbol.id, 1577836860000, *row[2:])])

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert "Jan. 1, 2020, 12:01 a.m." in response.content.decode()


def test_symbols_can_be_searched_and_filtered(admin_client):
    SymbolFactory(symbol="BTCUSDT")
    SymbolFactory(symbol="ETHUSDT", is_active=False)

    searched = admin_client.get(CHANGELIST, {"q": "ETH"}).context["cl"].result_list
    inactive = admin_client.get(CHANGELIST, {"is_active__exact": "0"}).context["cl"].result_list

    assert [s.symbol for s in searched] == [s.symbol for s in inactive] == ["ETHUSDT"]


def test_a_bulk_action_deactivates_the_selected_symbols(admin_client):
    chosen, other = SymbolFactory(), SymbolFactory()

    admin_client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [chosen.pk]})

    assert list(Symbol.objects.filter(is_active=True)) == [other]


def test_symbols_cannot_be_deleted_because_their_candles_keep_the_id(admin_client):
    symbol = SymbolFactory()

    assert admin_client.post(f"{CHANGELIST}{symbol.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Symbol.objects.filter(pk=symbol.pk).exists()
