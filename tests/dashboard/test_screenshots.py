"""`make screenshots`: the dashboard's pages as PNGs for the README (skipped unless DASHBOARD_SCREENSHOTS names a
directory). The live stream is played by Playwright, as in the tests, so that no "disconnected" banner shows."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from apps.alerts.models import AlertEvent, AlertRule
from apps.indicators.services import snapshots_compute
from apps.market.intervals import datetime_from_ms
from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from apps.strategies.models import Signal, Strategy
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.conftest import eth_minutes_up_to_the_hour
from tests.dashboard.conftest import sign_in
from tests.screener.conftest import coin
from tests.strategies.factories import StrategyFactory

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


ALERT_EVENTS = [  # minutes before the last candle, the rule (by its place below), the message
    (3, 1, "ETHUSDT: rsi_1h < 30 (rsi_1h = 28.41)"),
    (52, 2, "SOLUSDT: price rises 5% within 60 min (+5.12%: 203.9 -> 214.35)"),
    (190, 1, "ETHUSDT: rsi_1h < 30 (rsi_1h = 29.87)"),
]
SIGNALS = [  # strategy, timeframe, hours before the last candle, values
    ("RSI oversold", "1h", 30, {"rsi_14": 28.4}),
    ("Bollinger breakout down", "1h", 12, {"close": 3312.5, "bb_lower": 3315.2}),
    ("MACD bullish cross", "1h", 4, {"macd": 1.82, "macd_signal": 1.75}),
]


def shoot(browser, live_server, path: str, name: str, *, user=None, **context_options) -> None:
    context = browser.new_context(base_url=live_server.url, **context_options)
    page = context.new_page()
    page.route_web_socket("**/ws/stream/", lambda ws: None)
    page.route_web_socket("**/ws/alerts/", lambda ws: None)
    if user:
        sign_in(page, live_server.url, user)
    page.goto(path)
    page.wait_for_selector("#screener tbody tr, #chart[data-state=ready], #rules tbody[data-loaded]")
    page.wait_for_load_state("networkidle")  # the symbol page's indicators and signals
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
    # The chart's overlays and panes read the indicator history, and the signals beside it are the strategies'.
    end_ms = int(minutes[-1][0]) + 60_000
    snapshots_compute(symbol_ids=[tracked["ETHUSDT"].id], timeframe="1h", end_ms=end_ms)
    for name, timeframe, hours_ago, values in SIGNALS:
        strategy = Strategy.objects.filter(name=name).first() or StrategyFactory(name=name, timeframe=timeframe)
        open_time = datetime_from_ms(end_ms - hours_ago * 3_600_000)
        Signal.objects.create(symbol=tracked["ETHUSDT"], strategy=strategy, timeframe=timeframe, open_time=open_time,
                              candle_closed=True, values=values, created_at=open_time)  # fmt: skip
    shoot(browser, live_server, "/s/ETHUSDT/?interval=1h&studies=ema,bb,rsi", "symbol", color_scheme="light",
          **desktop)  # fmt: skip
    shoot(browser, live_server, "/s/ETHUSDT/?interval=1h&studies=sma,macd", "symbol-dark", color_scheme="dark",
          **desktop)  # fmt: skip
    shoot(browser, live_server, "/s/ETHUSDT/?interval=1h&studies=ema,rsi", "symbol-phone", color_scheme="light",
          **phone)  # fmt: skip

    user = UserFactory(username="ada")
    rules = [
        AlertRuleFactory(owner=user, symbol=tracked["BTCUSDT"], name="Six figures", value=100000, cooldown_seconds=300),
        AlertRuleFactory(owner=user, symbol=tracked["ETHUSDT"], kind="indicator", field="rsi_1h", operator="lt",
                         value=30, cooldown_seconds=3600),
        AlertRuleFactory(owner=user, symbol=tracked["SOLUSDT"], kind="percent_change", value=5, window_minutes=60,
                         is_active=False),
    ]  # fmt: skip
    fired = datetime_from_ms(end_ms)
    for minutes_ago, place, message in reversed(ALERT_EVENTS):  # oldest first: a rule's last firing is its newest
        rule, at = rules[place], fired - timedelta(minutes=minutes_ago)
        AlertEvent.objects.create(rule=rule, user=user, symbol=rule.symbol, message=message, idempotency_key=message,
                                  created_at=at)  # fmt: skip
        AlertRule.objects.filter(pk=rule.pk).update(last_fired_at=at)
    shoot(browser, live_server, "/alerts/", "alerts", user=user, color_scheme="light", **desktop)
