"""`make screenshots`: the dashboard's pages as PNGs for the README (skipped unless DASHBOARD_SCREENSHOTS names a
directory). The live stream is played by Playwright, as in the tests, so that no "disconnected" banner shows."""

import os
from pathlib import Path

import pytest

from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from tests.conftest import eth_minutes_up_to_the_hour
from tests.screener.conftest import coin

SCREENSHOTS = os.environ.get("DASHBOARD_SCREENSHOTS", "")

pytestmark = [
    pytest.mark.skipif(not SCREENSHOTS, reason="DASHBOARD_SCREENSHOTS not set (`make screenshots`)"),
    pytest.mark.usefixtures("chart_vendored"),
]

COINS = [  # symbol, name, price, 24h change, quote volume, market cap, rank, RSI 1h, MACD hist 1h
    ("BTCUSDT", "Bitcoin", 97250.1, 1.84, 2.1e9, 1.93e12, 1, 58.2, 41.7),
    ("ETHUSDT", "Ethereum", 3405.62, -0.72, 1.2e9, 4.1e11, 2, 44.9, -3.21),
    ("SOLUSDT", "Solana", 214.35, 4.95, 6.4e8, 1.03e11, 5, 71.3, 0.82),
    ("BNBUSDT", "BNB", 702.4, 0.31, 3.1e8, 1.01e11, 4, 52.0, 0.12),
    ("XRPUSDT", "XRP", 2.4312, -2.14, 5.2e8, 1.39e11, 3, 27.4, -0.0041),
    ("DOGEUSDT", "Dogecoin", 0.38211, 6.3, 4.4e8, 5.6e10, 7, 66.1, 0.0009),
    ("ADAUSDT", "Cardano", 1.0412, -3.9, 2.2e8, 3.6e10, 9, 31.8, -0.0062),
    ("LINKUSDT", "Chainlink", 24.87, 2.2, 1.5e8, 1.58e10, 12, 55.5, 0.064),
]


def shoot(browser, live_server, path: str, name: str, **context_options) -> None:
    context = browser.new_context(base_url=live_server.url, **context_options)
    page = context.new_page()
    page.route_web_socket("**/ws/stream/", lambda ws: None)
    page.goto(path)
    page.wait_for_selector("#screener tbody tr, #chart[data-state=ready]")
    page.wait_for_timeout(300)  # the chart's first paint
    page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)
    context.close()


def test_screenshots(browser, live_server):
    minutes = eth_minutes_up_to_the_hour()  # recorded ETHUSDT, for its chart
    tracked = {}
    for symbol, name, price, change, volume, cap, rank, rsi, macd in COINS:
        price = float(minutes[-1][4]) if symbol == "ETHUSDT" else price
        snapshots = {"1h": {"rsi_14": rsi, "macd_hist": macd}, "4h": {"rsi_14": rsi - 4, "macd_hist": macd * 2}}
        tracked[symbol] = coin(symbol, name=name, price=price, change=change, quote_volume=volume, market_cap=cap,
                               rank=rank, snapshots=snapshots)  # fmt: skip
    candles_upsert(rows=klines_parse(symbol_id=tracked["ETHUSDT"].id, raw_rows=minutes, source="test").rows)
    desktop = {"viewport": {"width": 1280, "height": 800}}
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}

    shoot(browser, live_server, "/", "screener", color_scheme="light", **desktop)
    shoot(browser, live_server, "/", "screener-dark", color_scheme="dark", **desktop)
    shoot(browser, live_server, "/", "screener-phone", color_scheme="light", **phone)
    shoot(browser, live_server, "/s/ETHUSDT/?interval=1h", "symbol", color_scheme="light", **desktop)
    shoot(browser, live_server, "/s/ETHUSDT/?interval=1h", "symbol-dark", color_scheme="dark", **desktop)
