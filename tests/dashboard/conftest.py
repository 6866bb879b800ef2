"""The dashboard in a real browser: Playwright driving Debian's chromium against pytest-django's live server, or
against the service as deployed (tests/dashboard/serving.py) for what travels over the WebSocket."""

import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from fakes.binance_server import FakeBinance
from fakes.market import recorded_market
from tests.dashboard.serving import served
from tests.screener.conftest import screener  # noqa: F401  (autouse: a fresh screener table per test)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VENDOR_CHART = Path(settings.BASE_DIR) / "static/vendor/lightweight-charts.standalone.production.js"

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser(django_db_setup, live_server) -> Iterator:
    """One chromium per module (after the test database and the live server exist); stopped with the module, so
    that Playwright's event loop, which makes Django refuse queries from this thread, never outlives its tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: scripts/ensure_browser.sh installs it")
    with pytest.MonkeyPatch.context() as patch, playwright_sync.sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    context.set_default_timeout(5000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page, base_url: str, user) -> None:
    """The page's browser holds `user`'s session, as after the sign-in page."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])


def play_stream(page) -> list:
    """Plays the server side of /ws/stream/ for pages on the live server, which speaks no WebSocket: answers each
    subscription; returns the sockets the page opens, to send updates on."""
    sockets = []

    def server(ws) -> None:
        sockets.append(ws)
        ws.on_message(
            lambda message: ws.send(json.dumps({"type": "subscribed", "streams": json.loads(message)["streams"]}))
        )

    page.route_web_socket(re.compile(r"/ws/stream/$"), server)
    return sockets


@pytest.fixture
def chart_vendored() -> None:
    if not VENDOR_CHART.exists():
        pytest.fail(f"{VENDOR_CHART} is missing: `make vendor` fetches it")


# Where the tests replay from: a day into the recorded weeks, which the streamer's REST fill finds before it.
REPLAY_START_MS = 1736208000000  # 2025-01-07 00:00 UTC


@pytest.fixture
def replaying_exchange() -> Iterator[FakeBinance]:
    """Our fake exchange with BTCUSDT's and ETHUSDT's recorded weeks (2025-01-06 to 19) as 1m candles, to replay."""
    exchange = FakeBinance(recorded_market(("BTCUSDT", "ETHUSDT")))
    exchange.start()
    yield exchange
    # TRICKY: stopping finishes the fake's event loop in the calling thread, where Playwright's loop is running.
    stopping = threading.Thread(target=exchange.stop)
    stopping.start()
    stopping.join()


@pytest.fixture
def serve(replaying_exchange, transactional_db, tmp_path) -> Iterator[Callable[[], str]]:
    """`serve()` starts the service as deployed, streaming from `replaying_exchange`, and returns its URL: called
    once the test has committed its symbols, which the streamer reads as it starts. Stopped after the test."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(served(replaying_exchange, tmp_path))
