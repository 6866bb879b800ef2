"""The screener's live path end to end, in the browser: the fake exchange replays recorded candles over its
WebSocket -> the streamer -> the channel layer (Redis) -> daphne's /ws/stream/ -> the page."""

import re

from playwright.sync_api import expect

from fakes.market import MINUTE_MS
from tests.dashboard.conftest import REPLAY_START_MS
from tests.screener.conftest import coin

MINUTES = 20


def test_the_screener_follows_the_replay_and_flashes_the_changed_price(page, serve, replaying_exchange):
    coin("BTCUSDT", name="Bitcoin", price=90000, market_cap=2e12)
    coin("ETHUSDT", name="Ethereum", price=3000, market_cap=4e11)
    url = serve()
    page.goto(f"{url}/")
    btc_price = page.locator("tr[data-symbol=BTCUSDT] td.price")
    expect(btc_price).to_have_text("90,000")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")

    replaying_exchange.replay(start_ms=REPLAY_START_MS, minutes=MINUTES, minutes_per_second=10)

    market = replaying_exchange.market
    closes = [market.candle_at("BTCUSDT", REPLAY_START_MS + minute * MINUTE_MS)[4] for minute in range(MINUTES)]
    shown = page.evaluate("closes => closes.map(Dashboard.price)", closes)
    expect(btc_price).to_have_text(re.compile("^(" + "|".join(map(re.escape, shown)) + ")$"), timeout=15000)
    expect(btc_price).to_have_class(re.compile(r"flash-(up|down)"))
