"""What our fake HTTP APIs share: an aiohttp application served on 127.0.0.1 from an event loop in a daemon thread,
for `with Fake() as fake:` in tests and in `make demo`."""

import asyncio
import signal
import threading
from collections.abc import Coroutine
from typing import Any, Self

from aiohttp import web


def stop_on_signals() -> threading.Event:
    """An event that SIGINT or SIGTERM sets, for a fake run as a program until it is stopped. Call it before the fake
    says it is up: the handlers are its own because a process started in the background inherits SIGINT ignored, and
    Python then raises no KeyboardInterrupt (a test's interrupt went unheard and the test waited for ever)."""
    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stop.set())
    return stop


class BackgroundHttpServer:
    """Serves `application()` on 127.0.0.1 (an ephemeral port unless `port` is given) while in a `with` block."""

    thread_name = "fake-http"

    def __init__(self, *, port: int = 0) -> None:
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=self.thread_name, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def application(self) -> web.Application:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        try:
            self._run(self._serve())
        except BaseException:
            self._stop_loop()  # no `with` block will end: stop the thread here
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._run(self._runner.cleanup())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _run(self, coroutine: Coroutine[Any, Any, object]) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _serve(self) -> None:
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        self._port = self._runner.addresses[0][1]
