import base64
import json
import re

from django.test import Client
from playwright.sync_api import expect

from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from tests.conftest import eth_minutes_up_to_the_hour
from tests.dashboard.conftest import play_stream
from tests.screener.conftest import coin

PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)  # one grey pixel


def coins() -> None:
    coin("BTCUSDT", name="Bitcoin", price=60000, change=2.5, quote_volume=9e9, market_cap=1.2e12, rank=1,
         snapshots={"1h": {"rsi_14": 55.0, "macd_hist": 12.5}})  # fmt: skip
    coin("ETHUSDT", name="Ethereum", price=3000, change=-1.0, quote_volume=5e9, market_cap=3.6e11, rank=2,
         snapshots={"1h": {"rsi_14": 25.0, "macd_hist": -3.0}})  # fmt: skip
    coin("SOLUSDT", name="Solana", price=150, change=8.0, quote_volume=2e9, market_cap=7e10, rank=5,
         snapshots={"1h": {"rsi_14": 72.0, "macd_hist": 0.5}})  # fmt: skip


def symbols(page) -> list[str]:
    return page.locator("#screener tbody tr").evaluate_all("rows => rows.map(row => row.dataset.symbol)")


def test_the_screener_shows_every_active_symbol_by_market_cap(page):
    coins()
    coin("OLDUSDT", price=1, status="BREAK")

    page.goto("/")

    expect(page.locator("#screener tbody tr")).to_have_count(3)
    assert symbols(page) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    btc = page.locator("tr[data-symbol=BTCUSDT] td")
    expect(btc.nth(1)).to_have_text("Bitcoin")
    expect(btc.nth(2)).to_have_text("60,000")
    expect(btc.nth(3)).to_have_text("+2.50%")
    expect(page.locator("tr[data-symbol=BTCUSDT] td.rsi-1h")).to_have_text("55.00")
    expect(page.locator("tr[data-symbol=BTCUSDT] td.macd-1h")).to_have_text("12.5000")
    expect(page.locator("#status")).to_have_text("3 symbols")


def test_clicking_a_column_sorts_by_it_and_again_reverses(page):
    coins()
    page.goto("/")
    expect(page.locator("#screener tbody tr")).to_have_count(3)

    page.click("th[data-field=rsi_1h]")
    expect(page).to_have_url(re.compile(r"ordering=-rsi_1h"))
    expect(page.locator("#screener tbody tr").first).to_have_attribute("data-symbol", "SOLUSDT")
    assert symbols(page) == ["SOLUSDT", "BTCUSDT", "ETHUSDT"]

    page.click("th[data-field=rsi_1h]")
    expect(page).to_have_url(re.compile(r"ordering=rsi_1h"))
    expect(page.locator("#screener tbody tr").first).to_have_attribute("data-symbol", "ETHUSDT")
    assert symbols(page) == ["ETHUSDT", "BTCUSDT", "SOLUSDT"]


def test_a_filter_narrows_the_rows_and_stays_in_the_url(page, live_server):
    coins()
    page.goto("/")
    expect(page.locator("#screener tbody tr")).to_have_count(3)

    page.fill("input[name=rsi_1h__lt]", "60")
    page.click("button[type=submit]")

    expect(page.locator("#screener tbody tr")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"\?rsi_1h__lt=60$"))
    assert symbols(page) == ["BTCUSDT", "ETHUSDT"]

    # The URL alone gives the same view, form included.
    shared = page.url
    page.goto("about:blank")
    page.goto(shared)
    expect(page.locator("#screener tbody tr")).to_have_count(2)
    expect(page.locator("input[name=rsi_1h__lt]")).to_have_value("60")


def test_a_bad_filter_says_what_is_wrong(page):
    coins()
    page.goto("/?rsi_1h__lt=abc")

    expect(page.locator("#status.error")).to_contain_text("rsi_1h__lt")
    expect(page.locator("#screener tbody tr")).to_have_count(0)


def test_tickers_from_the_stream_update_and_flash_the_prices(page):
    """The stream's server side has its own tests; live_server speaks no WebSocket, so Playwright plays it."""
    coins()
    sockets = play_stream(page)
    page.goto("/")
    expect(page.locator("#screener tbody tr")).to_have_count(3)
    expect(page.locator("body")).to_have_attribute("data-live", "connected")

    tick = {"symbol": "ETHUSDT", "event_time": 2, "c": "3100.5", "o": "3000", "h": "3100.5", "l": "3000", "v": "1",
            "q": "6000000000"}  # fmt: skip
    sockets[0].send(json.dumps({"type": "update", "stream": "ticker", "data": {"ETHUSDT": tick}}))

    eth = page.locator("tr[data-symbol=ETHUSDT] td")
    expect(eth.nth(2)).to_have_text("3,100.5")
    expect(eth.nth(2)).to_have_class(re.compile(r"flash-up"))
    expect(eth.nth(3)).to_have_text("+3.35%")
    expect(eth.nth(4)).to_have_text("6B")


def test_a_dropped_stream_shows_the_banner_until_it_reconnects(page):
    coins()
    sockets = []

    def server(ws) -> None:
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/stream/$"), server)
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    expect(page.locator("#banner")).to_be_hidden()

    sockets[0].close()

    expect(page.locator("#banner")).to_be_visible()
    expect(page.locator("#banner")).to_contain_text("reconnecting")
    # Reconnects after about a second.
    expect(page.locator("#banner")).to_be_hidden()
    assert len(sockets) == 2


def test_rsi_and_macd_are_shown_for_every_timeframe_with_their_state(page):
    coin("BTCUSDT", price=60000, snapshots={"15m": {"rsi_14": 25.0, "macd_hist": -1.5},
                                            "4h": {"rsi_14": 75.0, "macd_hist": 2.0}})  # fmt: skip

    page.goto("/")

    btc = page.locator("tr[data-symbol=BTCUSDT]")
    expect(btc.locator("td.rsi-15m")).to_have_text("25.00")
    expect(btc.locator("td.rsi-15m")).to_have_class(re.compile(r"\boversold\b"))
    expect(btc.locator("td.macd-15m")).to_have_class(re.compile(r"\bdown\b"))
    expect(btc.locator("td.rsi-4h")).to_have_class(re.compile(r"\boverbought\b"))
    expect(btc.locator("td.macd-4h")).to_have_text("2.0000")
    expect(btc.locator("td.macd-4h")).to_have_class(re.compile(r"\bup\b"))
    expect(btc.locator("td.rsi-1h")).to_have_text("\u2013")  # no 1h snapshot: a dash, never a made-up number
    expect(btc.locator("td.rsi-1h")).not_to_have_class(re.compile(r"\b(oversold|overbought)\b"))


def test_a_coins_logo_shows_beside_its_symbol_and_one_that_fails_to_load_is_left_out(page):
    coins()
    page.route("https://example.com/BTC.png", lambda route: route.fulfill(body=PIXEL_PNG, content_type="image/png"))
    page.route("https://example.com/ETH.png", lambda route: route.abort())

    page.goto("/")

    expect(page.locator("tr[data-symbol=BTCUSDT] img.logo")).to_have_attribute("src", "https://example.com/BTC.png")
    expect(page.locator("tr[data-symbol=ETHUSDT] img.logo")).to_have_count(0)
    expect(page.locator("tr[data-symbol=ETHUSDT] a")).to_have_text("ETHUSDT")


def test_the_sparkline_draws_the_hourly_closes_of_the_last_24_hours(page):
    eth = coin("ETHUSDT", price=3000)
    minutes = eth_minutes_up_to_the_hour()
    candles_upsert(rows=klines_parse(symbol_id=eth.id, raw_rows=minutes, source="test").rows)

    page.goto("/")

    line = page.locator("tr[data-symbol=ETHUSDT] td.sparkline polyline")
    expect(line).to_have_count(1)
    (closes,) = [row["sparkline_24h"] for row in Client().get("/api/v1/screener/").json()["results"]]
    assert len(closes) >= 23  # the hours of the last day, the current one not begun
    assert len(line.get_attribute("points").split()) == len(closes)
    rising = closes[-1] >= closes[0]
    expect(page.locator("tr[data-symbol=ETHUSDT] td.sparkline svg")).to_have_class("up" if rising else "down")
