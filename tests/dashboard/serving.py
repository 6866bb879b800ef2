"""The dashboard as deployed, for the browser tests of the live path, which pytest-django's WSGI live server cannot
serve: daphne serving the ASGI app (`manage.py serve`) and the streamer (`manage.py stream`), each in a process of
its own as in production, on the test database and the suite's Redis (the channel layer between them, the cache),
streaming from our fake exchange."""

import socket
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from fakes.binance_server import FakeBinance
from tests.processes import process_group, wait_ready
from tests.workers import worker_environment

# Time to stop before SIGKILL: the tests keep nothing of the processes, and the streamer waits for a REST fill.
STOP_SECONDS = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(exchange: FakeBinance, logs: Path) -> Iterator[str]:
    """The service on a free port of 127.0.0.1, streaming the tracked symbols (committed rows) from `exchange`;
    yields its URL once it answers and the streamer is connected, and stops both processes after."""
    port = _free_port()
    environment = worker_environment(
        DJANGO_SETTINGS_MODULE="tests.dashboard.served_settings",
        DJANGO_DEBUG="true",  # daphne then serves the static files itself, as on `make run`
        BINANCE_WS_URL=exchange.ws_url,
        BINANCE_REST_URL=exchange.rest_url,
        BINANCE_ARCHIVE_URL=exchange.archive_url,
        MARKET_RECENT_WINDOW_DAYS="1",  # how far back the streamer fills from REST before its first closed kline
        STREAM_FLUSH_SECONDS="0.2",  # tickers evaluated and sent on five times a second: the tests wait less
        ALERTS_INDEX_REFRESH_SECONDS="0",  # a rule created on the page is searched from the next flush on
    )
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        # Web only, as the `web` service runs: with tasks not eager, `serve` starts no beat and no streamer of its own.
        web = stack.enter_context(
            _process(["serve", "--host", "127.0.0.1", "--port", str(port)],
                     environment | {"CELERY_TASK_ALWAYS_EAGER": "false"}, logs / "web.log")
        )  # fmt: skip
        # Its alert deliveries run in-process (eager): nothing here is about Celery.
        streamer = stack.enter_context(
            _process(["stream"], environment | {"CELERY_TASK_ALWAYS_EAGER": "true"}, logs / "streamer.log")
        )
        wait_ready(web, lambda: _answers(url), logs / "web.log", f"the web process on {url}")
        wait_ready(streamer, lambda: exchange.streams.clients, logs / "streamer.log", "the streamer")
        yield url


def _process(arguments: list[str], environment: dict[str, str], log: Path):
    """`manage.py ARGUMENTS`, stopped with whatever it started when the block ends."""
    return process_group([sys.executable, "manage.py", *arguments], log, environment, stop_seconds=STOP_SECONDS)


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return False
    return True
