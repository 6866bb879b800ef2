"""The newest signals of each symbol, for the screener's rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.strategies.models import Signal
from apps.strategies.selectors import latest_signals
from tests.market.factories import SymbolFactory
from tests.strategies.factories import CANDLE, FOUR_HOURS, StrategyFactory

pytestmark = pytest.mark.django_db


def test_each_symbol_gets_its_newest_signals_up_to_the_limit_newest_first():
    btc, eth, sol = (SymbolFactory(symbol=name) for name in ("BTCUSDT", "ETHUSDT", "SOLUSDT"))
    strategy = StrategyFactory(name="Oversold")
    start = timezone.now()
    created = [
        Signal.objects.create(symbol=symbol, strategy=strategy, timeframe="4h", open_time=CANDLE + n * FOUR_HOURS,
                              candle_closed=True, values={}, created_at=start + timedelta(minutes=n))
        for n, symbol in enumerate([btc, btc, eth, btc, sol])
    ]  # fmt: skip

    latest = latest_signals(symbol_ids=[btc.id, eth.id], limit_per_symbol=2)

    assert {symbol_id: [signal["id"] for signal in signals] for symbol_id, signals in latest.items()} == {
        btc.id: [created[3].id, created[1].id],
        eth.id: [created[2].id],
    }
    assert latest[eth.id][0] == {
        "id": created[2].id, "strategy": strategy.id, "strategy_name": "Oversold", "timeframe": "4h",
        "open_time": "2026-01-05T16:00:00Z", "candle_closed": True,
        "created_at": created[2].created_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
