from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from apps.indicators.models import Snapshot
from apps.market.live import live_tickers_set
from apps.market.models import CoinMetadata
from apps.screener import asgi
from apps.screener.api import views
from apps.screener.table import ScreenerState
from tests.market.factories import SymbolFactory


@pytest.fixture(autouse=True)
def screener(settings, monkeypatch) -> Iterator[ScreenerState]:
    """A fresh table for each test, looking for changes on every request; no live state from earlier tests."""
    settings.SCREENER_REFRESH_SECONDS = 0
    cache.clear()
    state = ScreenerState()
    monkeypatch.setattr(views, "screener_state", state)
    monkeypatch.setattr(asgi, "screener_state", state)
    yield state
    cache.clear()


def coin(symbol: str, *, price: float, change: float = 0.0, quote_volume: float = 1e6,
         market_cap: float | None = None, rank: int | None = None, name: str = "",
         snapshots: dict[str, dict] | None = None, **symbol_fields):  # fmt: skip
    """A tracked symbol with its metadata, a live ticker and snapshot values per timeframe."""
    tracked = SymbolFactory(symbol=symbol, **symbol_fields)
    CoinMetadata.objects.create(
        base_asset=tracked.base_asset,
        name=name or tracked.base_asset,
        rank=rank,
        market_cap=market_cap,
        logo_url=f"https://example.com/{tracked.base_asset}.png",
    )
    live_tickers_set({symbol: ticker(symbol, price=price, change=change, quote_volume=quote_volume)})
    for timeframe, values in (snapshots or {}).items():
        Snapshot.objects.create(symbol=tracked, timeframe=timeframe, open_time=datetime(2026, 1, 1, tzinfo=UTC),
                                values=values)  # fmt: skip
    return tracked


def ticker(symbol: str, *, price: float, change: float = 0.0, quote_volume: float = 1e6, event_time: int = 1) -> dict:
    """The streamer's 24h mini ticker: the open 24h ago is what makes `change` percent."""
    day_open = price / (1 + change / 100)
    return {"symbol": symbol, "event_time": event_time, "c": str(price), "o": repr(day_open), "h": str(price),
            "l": str(price), "v": "1", "q": str(quote_volume)}  # fmt: skip
