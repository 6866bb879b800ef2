import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from apps.alerts.models import AlertEvent
from apps.alerts.services import alert_tickers_evaluate, live_alerts

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
_clock = {"ms": START_MS}


@pytest.fixture(autouse=True)
def fresh_alerts(settings) -> Iterator[None]:
    """Each test starts as a new process would: no index, no previous prices; rule changes are seen at once."""
    settings.ALERTS_INDEX_REFRESH_SECONDS = 0
    _clock["ms"] = START_MS
    cache.clear()
    live_alerts.cache_clear()
    yield
    live_alerts.cache_clear()


def ticker(symbol: str, price: float | str, *, event_time: int = START_MS) -> dict:
    """The streamer's mini ticker of a symbol (its 24h figures do not matter here)."""
    return {"symbol": symbol, "event_time": event_time, "c": str(price), "o": str(price), "h": str(price),
            "l": str(price), "v": "1", "q": "1"}  # fmt: skip


def wait(seconds: int) -> None:
    """Let time pass before the next `tick`."""
    _clock["ms"] += seconds * 1000


def tick(**prices: float) -> list[AlertEvent]:
    """One flush of the streamer with these symbols' prices (BTCUSDT=100.5), a second after the previous one (the
    first of a test a second after START_MS); the events it fired."""
    _clock["ms"] += 1000
    at = _clock["ms"]
    ids = alert_tickers_evaluate(
        tickers={symbol: ticker(symbol, price, event_time=at) for symbol, price in prices.items()}
    )
    return list(AlertEvent.objects.filter(id__in=ids).order_by("id"))


RETRY_AFTER = 30


@dataclass
class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 standing for a user's webhook: it records each POST and answers each with
    the next of `statuses` (then 200), after `delay` seconds; a 429 says to retry after RETRY_AFTER seconds."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[dict] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                threading.Event().wait(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", str(RETRY_AFTER))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


LOOPBACK = "127.0.0.1/32"


@pytest.fixture
def webhook(settings) -> Iterator[WebhookReceiver]:
    """A receiver on 127.0.0.1, which webhooks may reach only because the operator's allow-list says so."""
    settings.ALERTS_WEBHOOK_ALLOWED_NETWORKS = [LOOPBACK]
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
