"""Binance's combined market streams over WebSocket (base URL: settings.BINANCE_WS_URL).

One `StreamConnection` is one socket: it answers pings (the websockets library echoes the payload, as Binance
requires), treats a connection that sends nothing for `silence_seconds` as dead, and yields each message's text.
Reconnecting and rotating are the streamer's business (apps/market/services/streamer.py).
"""

import asyncio
import json
from collections.abc import AsyncIterator

import websockets

MAX_STREAMS_PER_CONNECTION = 1024  # Binance's limit; the streamer keeps a margin below it
TICKERS = "!miniTicker@arr"
# Streams named in the URL need no SUBSCRIBE message, but a request line past about 8 KB is refused: the first
# ones go in the URL, the rest in SUBSCRIBE messages paced under Binance's 5 incoming messages a second.
URL_STREAMS = 100
SUBSCRIBE_BATCH = 200
SUBSCRIBE_PAUSE_SECONDS = 0.25


def kline_stream_name(symbol: str) -> str:
    return f"{symbol.lower()}@kline_1m"


def combined_url(base_url: str, streams: list[str]) -> str:
    return f"{base_url.rstrip('/')}/stream?streams={'/'.join(streams)}"


class SilentConnection(ConnectionError):
    pass


class StreamConnection:
    def __init__(self, base_url: str, streams: list[str], *, silence_seconds: float) -> None:
        self.url = combined_url(base_url, streams[:URL_STREAMS])
        self.streams = streams
        self.silence_seconds = silence_seconds
        self._socket: websockets.ClientConnection | None = None

    async def open(self) -> None:
        self._socket = await websockets.connect(self.url, max_size=2**24, open_timeout=10, ping_interval=None)
        for request_id, start in enumerate(range(URL_STREAMS, len(self.streams), SUBSCRIBE_BATCH), 1):
            await asyncio.sleep(SUBSCRIBE_PAUSE_SECONDS)
            params = self.streams[start : start + SUBSCRIBE_BATCH]
            await self._socket.send(json.dumps({"method": "SUBSCRIBE", "params": params, "id": request_id}))

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()

    async def messages(self) -> AsyncIterator[str]:
        """Each text message until the connection closes or stays silent too long (SilentConnection)."""
        while True:
            try:
                message = await asyncio.wait_for(self._socket.recv(), timeout=self.silence_seconds)
            except TimeoutError:
                raise SilentConnection(f"nothing for {self.silence_seconds:.0f}s from {self.url[:80]}") from None
            if isinstance(message, str):
                yield message
