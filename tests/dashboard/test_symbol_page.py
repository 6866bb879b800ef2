import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from apps.market.intervals import datetime_from_ms, ms_from_datetime
from apps.market.klines import klines_parse
from apps.market.models import Symbol
from apps.market.services.candles import candles_upsert
from apps.strategies.models import Signal
from tests.conftest import eth_minutes_up_to_the_hour
from tests.dashboard.conftest import play_stream
from tests.screener.conftest import coin
from tests.strategies.factories import StrategyFactory, history, minute

pytestmark = pytest.mark.usefixtures("chart_vendored")


@pytest.fixture
def eth_minutes() -> list[list]:
    """ETHUSDT with its last two recorded days of 1m candles and snapshots on two timeframes."""
    snapshots = {"1h": {"rsi_14": 61.5, "macd_hist": 1.25}, "4h": {"rsi_14": 48.0, "macd_hist": -2.5}}
    eth = coin("ETHUSDT", name="Ethereum", price=3000, snapshots=snapshots)
    minutes = eth_minutes_up_to_the_hour()[-2 * 1440 :]
    candles_upsert(rows=klines_parse(symbol_id=eth.id, raw_rows=minutes, source="test").rows)
    return minutes


def test_the_symbol_page_draws_the_candles_and_the_snapshots(page, eth_minutes):
    page.goto("/s/ETHUSDT/")

    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(chart).to_have_attribute("data-interval", "1h")
    expect(chart).to_have_attribute("data-candles", "48")
    expect(chart.locator("canvas").first).to_be_visible()
    expect(page.locator("#symbol-name")).to_have_text("ETHUSDT · Ethereum")
    expect(page.locator("#symbol-price")).to_have_text("3,000")

    table = page.locator(".snapshot-table")
    expect(table.locator("thead th")).to_have_text(["", "1h", "4h"])
    expect(table.locator("tbody tr").first).to_contain_text("macd_hist")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("61.5000")


def test_switching_the_interval_reloads_the_candles(page, eth_minutes):
    minutes = eth_minutes
    page.goto("/s/ETHUSDT/")
    expect(page.locator("#chart")).to_have_attribute("data-candles", "48")

    with page.expect_response(lambda response: "/api/v1/klines/ETHUSDT/?interval=15m" in response.url):
        page.click("#intervals button[data-interval='15m']")

    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-interval", "15m")
    expect(chart).to_have_attribute("data-candles", "192")
    expect(page.locator("#intervals button.active")).to_have_text("15m")
    assert page.url.endswith("/s/ETHUSDT/?interval=15m")

    page.click("#intervals button[data-interval='1d']")
    expect(chart).to_have_attribute("data-interval", "1d")
    days = len({int(minute[0]) // 86_400_000 for minute in minutes})  # 3, or 2 when it is just past midnight
    expect(chart).to_have_attribute("data-candles", str(days))


def test_an_unknown_symbol_says_so(page):
    page.goto("/s/NOPEUSDT/")

    expect(page.locator("#chart")).to_have_attribute("data-state", "error")
    expect(page.locator("#chart-status")).to_contain_text("NOPEUSDT")


def kline(open_time: datetime, *, open: float, high: float, low: float, close: float, volume: float, closed: bool):
    t = ms_from_datetime(open_time)
    return {"type": "update", "stream": "kline:ETHUSDT:1m",
            "data": {"t": t, "T": t + 59_999, "s": "ETHUSDT", "i": "1m", "o": str(open), "h": str(high),
                     "l": str(low), "c": str(close), "v": str(volume), "x": closed}}  # fmt: skip


def hours_of(minutes: list[list]) -> list[int]:
    return sorted({int(minute[0]) // 3_600_000 * 3_600_000 for minute in minutes})


def test_the_ema_overlay_draws_the_stored_indicator_history_and_goes_away_again(page, eth_minutes):
    eth = Symbol.objects.get(symbol="ETHUSDT")
    for i, hour in enumerate(hours_of(eth_minutes)):
        values = {"ema_21": 3000.0 + i, "ema_50": 2900.0 + i, "ema_200": None}
        history(eth, values, open_time=datetime_from_ms(hour), timeframe="1h")
    page.goto("/s/ETHUSDT/")
    expect(page.locator("#chart")).to_have_attribute("data-state", "ready")

    with page.expect_response(lambda response: "/api/v1/indicators/ETHUSDT/?timeframe=1h&start=" in response.url):
        page.click("#studies button[data-study=ema]")

    expect(page.locator("#legend [data-key=ema_21]")).to_have_text("EMA 21 3,047")
    expect(page.locator("#legend [data-key=ema_50]")).to_have_text("EMA 50 2,947")
    expect(page.locator("#legend [data-key=ema_200]")).to_have_text("EMA 200 \N{EN DASH}")  # still warming up
    expect(page.locator("#studies button[data-study=ema]")).to_have_attribute("aria-pressed", "true")
    assert page.url.endswith("?interval=1h&studies=ema")

    page.click("#studies button[data-study=ema]")
    expect(page.locator("#legend .legend-item")).to_have_count(0)
    assert page.url.endswith("?interval=1h")


def test_without_stored_history_the_overlays_are_computed_from_the_candles(page, eth_minutes):
    page.goto("/s/ETHUSDT/?interval=5m&studies=sma,bb")

    closes = {}  # the close of each 5m candle: its last minute's
    for row in eth_minutes:
        closes[int(row[0]) // 300_000] = float(row[4])
    last_20 = list(closes.values())[-20:]
    mean = sum(last_20) / 20
    deviation = math.sqrt(sum((close - mean) ** 2 for close in last_20) / 20)
    legend = page.locator("#legend")
    expect(legend.locator("[data-key=sma_20]")).to_have_text(f"SMA 20 {mean:,.2f}".rstrip("0").rstrip("."))
    upper = f"{mean + 2 * deviation:,.2f}".rstrip("0").rstrip(".")
    expect(legend.locator("[data-key=bb_upper]")).to_have_text(f"BB upper {upper}")
    expect(legend).to_contain_text("5m has no stored indicators: computed from the candles loaded")


def test_the_rsi_and_macd_panes_appear_under_the_chart_and_go_away(page, eth_minutes):
    page.goto("/s/ETHUSDT/?interval=15m")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-state", "ready")
    expect(chart).to_have_attribute("data-panes", "1")

    page.click("#studies button[data-study=rsi]")
    expect(chart).to_have_attribute("data-panes", "2")
    page.click("#studies button[data-study=macd]")
    expect(chart).to_have_attribute("data-panes", "3")
    expect(page.locator("#legend [data-key=macd_signal]")).to_be_visible()

    page.click("#studies button[data-study=rsi]")
    expect(chart).to_have_attribute("data-panes", "2")
    expect(page.locator("#legend [data-key=rsi_14]")).to_have_count(0)
    page.click("#studies button[data-study=macd]")
    expect(chart).to_have_attribute("data-panes", "1")


def test_scrolling_to_the_left_edge_loads_the_page_before(page, eth_minutes):
    page.goto("/s/ETHUSDT/?interval=1m")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-candles", "500")
    first = int(eth_minutes[-500][0])
    expect(chart).to_have_attribute("data-first", str(first))

    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    with page.expect_request(lambda request: f"interval=1m&end={first - 1}&limit=500" in request.url):
        for _ in range(2):  # about 130 candles back each
            page.mouse.wheel(-2000, 0)

    expect(chart).to_have_attribute("data-candles", "1000")
    expect(chart).to_have_attribute("data-first", str(int(eth_minutes[-1000][0])))


def test_the_symbols_recent_signals_are_listed_beside_the_chart(page, eth_minutes):
    eth = Symbol.objects.get(symbol="ETHUSDT")
    oversold = StrategyFactory(name="RSI under 25", timeframe="1h")
    crossed = StrategyFactory(name="EMA 50 over 200", timeframe="4h")
    open_time = datetime(2026, 1, 5, 8, tzinfo=UTC)
    Signal.objects.create(symbol=eth, strategy=crossed, timeframe="4h", open_time=open_time - timedelta(hours=4),
                          candle_closed=True, values={"ema_50": 3012.25, "ema_200": 2990.0},
                          created_at=open_time - timedelta(hours=1))  # fmt: skip
    Signal.objects.create(symbol=eth, strategy=oversold, timeframe="1h", open_time=open_time, candle_closed=True,
                          values={"rsi_14": 27.5}, created_at=open_time)  # fmt: skip
    Signal.objects.create(symbol=coin("BTCUSDT", price=60000), strategy=oversold, timeframe="1h",
                          open_time=open_time, candle_closed=True, values={"rsi_14": 20.0})  # fmt: skip

    page.goto("/s/ETHUSDT/")

    items = page.locator("#signals li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("RSI under 25 1h · 2026-01-05 08:00 UTC")
    expect(items.first).to_contain_text("rsi_14 27.50")
    expect(items.nth(1)).to_contain_text("EMA 50 over 200 4h · 2026-01-05 04:00 UTC")
    expect(items.nth(1)).to_contain_text("ema_50 3,012.25, ema_200 2,990")


def test_the_forming_hour_folds_the_streamed_minutes_each_counted_once(page):
    eth = coin("ETHUSDT", price=3000)
    start = datetime(2026, 1, 5, 6, tzinfo=UTC)
    for i in range(130):  # 06:00 to 08:09: two closed hours and ten minutes of the third
        minute(eth, start + timedelta(minutes=i), open=3000 + i, close=3000.5 + i)
    sockets = play_stream(page)
    page.goto("/s/ETHUSDT/?interval=1h")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-candles", "3")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    ohlc = page.locator("#ohlc")
    expect(ohlc).to_have_text("O 3,120 H 3,129.5 L 3,120 C 3,129.5 V 10")

    eight = datetime(2026, 1, 5, 8, tzinfo=UTC)
    for update in (
        kline(eight + timedelta(minutes=9), open=3129, high=3129.5, low=3129, close=3129.5, volume=1, closed=True),
        kline(eight + timedelta(minutes=10), open=3130, high=3140, low=3125, close=3135, volume=2, closed=False),
        kline(eight + timedelta(minutes=10), open=3130, high=3141, low=3125, close=3136, volume=3, closed=True),
        kline(eight + timedelta(minutes=11), open=3136, high=3137, low=3100, close=3101, volume=0.5, closed=False),
    ):
        sockets[0].send(json.dumps(update))

    # 08:09 was stored already; 08:10 counts with its closing volume, 08:11 as it forms.
    expect(ohlc).to_have_text("O 3,120 H 3,141 L 3,100 C 3,101 V 13.5")
    expect(chart).to_have_attribute("data-candles", "3")

    nine = kline(eight + timedelta(hours=1), open=3101, high=3102, low=3099, close=3100, volume=1, closed=False)
    sockets[0].send(json.dumps(nine))
    expect(chart).to_have_attribute("data-candles", "4")
    expect(ohlc).to_have_text("O 3,101 H 3,102 L 3,099 C 3,100 V 1")


def test_a_weekly_bar_starts_on_monday(page):
    eth = coin("ETHUSDT", price=3000)
    sunday = datetime(2026, 1, 4, 23, 58, tzinfo=UTC)
    minute(eth, sunday, open=3000, close=3001)
    sockets = play_stream(page)
    page.goto("/s/ETHUSDT/?interval=1w")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-candles", "1")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")

    last_sunday_minute = kline(sunday + timedelta(minutes=1), open=3001, high=3003, low=3001, close=3002, volume=2,
                               closed=True)  # fmt: skip
    monday = kline(sunday + timedelta(minutes=2), open=3002, high=3004, low=3002, close=3004, volume=1, closed=False)
    sockets[0].send(json.dumps(last_sunday_minute))
    expect(page.locator("#ohlc")).to_have_text("O 3,000 H 3,003 L 3,000 C 3,002 V 3")
    sockets[0].send(json.dumps(monday))
    expect(chart).to_have_attribute("data-candles", "2")
    expect(page.locator("#ohlc")).to_have_text("O 3,002 H 3,004 L 3,002 C 3,004 V 1")
