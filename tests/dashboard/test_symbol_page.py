import pytest
from playwright.sync_api import expect

from apps.market.klines import klines_parse
from apps.market.services.candles import candles_upsert
from tests.conftest import eth_minutes_up_to_the_hour
from tests.screener.conftest import coin

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
