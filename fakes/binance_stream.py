"""The WebSocket side of our fake exchange: Binance's combined streams (`/stream?streams=a/b`), kline and
miniTicker events in Binance's exact format, server pings, the 1024-streams and 5-messages-per-second limits, and
the ways a real connection fails: dropped at any moment, gone silent, cut by a `serverShutdown` or the 24-hour limit.

Candles are replayed from the market: `Replay` moves the market's clock one minute at a time, faster than real time,
and each minute's candle goes out as a forming update and then as the closed kline, so REST and WebSocket agree.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from aiohttp import WSMsgType, web

from fakes.market import FakeMarket

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
EIGHT_DECIMALS = Decimal("0.00000001")
MAX_STREAMS = 1024
MAX_INCOMING_PER_SECOND = 5


@dataclass(eq=False)
class StreamClient:
    socket: web.WebSocketResponse
    request: web.Request
    streams: set[str]
    opened_at: float = field(default_factory=time.monotonic)


class ReplayClock:
    """The market's "now" while a replay runs: it only moves when the replay publishes a minute."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


def kline_event(symbol: str, row: list, *, closed: bool) -> dict:
    open_ms, close_ms = int(row[0]), int(row[6])
    return {
        "e": "kline", "E": close_ms + 1 if closed else open_ms + 30_000, "s": symbol,
        "k": {"t": open_ms, "T": close_ms, "s": symbol, "i": "1m", "f": 100, "L": 100 + int(row[8]),
              "o": row[1], "c": row[4], "h": row[2], "l": row[3], "v": row[5], "n": int(row[8]), "x": closed,
              "q": row[7], "V": row[9], "Q": row[10], "B": "0"},
    }  # fmt: skip


def mini_ticker(symbol: str, row: list) -> dict:
    # Per-minute values stand in for the 24h rolling window: the shape is Binance's, the numbers are the candle's.
    return {"e": "24hrMiniTicker", "E": int(row[6]) + 1, "s": symbol, "c": row[4], "o": row[1], "h": row[2],
            "l": row[3], "v": row[5], "q": row[7]}  # fmt: skip


def forming_candle(row: list, elapsed: float, *, tick: Decimal, step: Decimal) -> list:
    """The minute's candle `elapsed` (0 to 1) of the way through its minute: the price along open -> low -> high ->
    close for a rising candle (open -> high -> low -> close for a falling one, as fakes.derive draws minutes) on the
    tick, high and low so far, volumes and trades in proportion (rounded down); at 1, the candle itself."""
    if elapsed >= 1:
        return row
    open_, high, low, close = (Decimal(row[column]) for column in (1, 2, 3, 4))
    path = [open_, low, high, close] if close >= open_ else [open_, high, low, close]
    position = Decimal(max(elapsed, 0.0)) * 3
    leg = min(int(position), 2)
    price = (path[leg] + (path[leg + 1] - path[leg]) * (position - leg)).quantize(tick)
    visited = [*path[: leg + 1], price]
    fraction = Decimal(max(elapsed, 0.0))

    def part(column: int, quantum: Decimal) -> str:
        return f"{(Decimal(row[column]) * fraction).quantize(quantum, rounding=ROUND_DOWN):.8f}"

    prices = [row[1], f"{max(visited):.8f}", f"{min(visited):.8f}", f"{price:.8f}"]
    counts = [part(5, step), row[6], part(7, EIGHT_DECIMALS), int(row[8] * fraction), part(9, step),
              part(10, EIGHT_DECIMALS)]  # fmt: skip
    return [row[0], *prices, *counts, *row[11:]]


@dataclass(frozen=True)
class ClosedDay:
    """A symbol's closed minutes of the last 24 hours, summed up."""

    open: str
    high: Decimal
    low: Decimal
    volume: Decimal
    quote_volume: Decimal

    @classmethod
    def of(cls, rows: list[list]) -> "ClosedDay | None":
        if not rows:
            return None
        return cls(rows[0][1], max(Decimal(row[2]) for row in rows), min(Decimal(row[3]) for row in rows),
                   sum(Decimal(row[5]) for row in rows), sum(Decimal(row[7]) for row in rows))  # fmt: skip


def rolling_mini_ticker(symbol: str, day: ClosedDay | None, forming: list, now_ms: int) -> dict:
    """Binance's 24h rolling miniTicker: the closed minutes of the last day and the forming one."""
    if day is None:
        day = ClosedDay(forming[1], Decimal(forming[2]), Decimal(forming[3]), Decimal(0), Decimal(0))
    high, low = max(day.high, Decimal(forming[2])), min(day.low, Decimal(forming[3]))
    volume, quote_volume = day.volume + Decimal(forming[5]), day.quote_volume + Decimal(forming[7])
    return {"e": "24hrMiniTicker", "E": now_ms, "s": symbol, "c": forming[4], "o": day.open, "h": f"{high:.8f}",
            "l": f"{low:.8f}", "v": f"{volume:.8f}", "q": f"{quote_volume:.8f}"}  # fmt: skip


class FakeStreams:
    def __init__(self, market: FakeMarket) -> None:
        self.market = market
        self.clients: set[StreamClient] = set()
        self.ping_interval = 20.0
        self.max_lifetime = 24 * 3600.0
        self.connections_opened = 0
        self.subscribed_ever: set[str] = set()  # every stream any client asked for, in its URL or by SUBSCRIBE
        # When a dict: the wall-clock time each kline event went out, by (symbol, open time, closed), for latency.
        self.sent_at: dict[tuple[str, int, bool], float] | None = None
        self._silent_until = 0.0

    # -- control (call inside the fake's loop, see FakeBinance.call)
    def drop_all(self) -> None:
        """Cut every connection at once, with no close frame, as a network failure does."""
        for client in list(self.clients):
            client.request.transport.close()

    def silence(self, seconds: float) -> None:
        """Keep the connections open but send nothing, data or ping, for `seconds`."""
        self._silent_until = time.monotonic() + seconds

    async def send_raw(self, text: str) -> None:
        """Send `text` as it is to every client: how tests deliver malformed or out-of-order events."""
        for client in list(self.clients):
            await client.socket.send_str(text)

    async def shut_down_all(self) -> None:
        """Binance's `serverShutdown` event, then the cut."""
        for client in list(self.clients):
            await self._send(client, "!serverShutdown", {"e": "serverShutdown", "E": int(time.time() * 1000)})
            await client.socket.close()

    # -- serving
    async def handle(self, request: web.Request) -> web.StreamResponse:
        streams = [name for name in request.query.get("streams", "").split("/") if name]
        if not streams or len(streams) > MAX_STREAMS:
            return web.json_response({"code": -1121, "msg": f"Between 1 and {MAX_STREAMS} streams."}, status=400)
        socket = web.WebSocketResponse(heartbeat=self.ping_interval)
        await socket.prepare(request)
        client = StreamClient(socket, request, set(streams))
        self.subscribed_ever |= client.streams
        self.clients.add(client)
        self.connections_opened += 1
        try:
            await self._read_controls(client)
        finally:
            self.clients.discard(client)
        return socket

    async def _read_controls(self, client: StreamClient) -> None:
        received: list[float] = []
        async for message in client.socket:
            now = time.monotonic()
            received = [moment for moment in received if now - moment < 1.0] + [now]
            if len(received) > MAX_INCOMING_PER_SECOND:
                await client.socket.close()  # Binance disconnects a client past 5 incoming messages a second
                return
            if message.type == WSMsgType.TEXT:
                await self._answer_control(client, message.data)

    async def _answer_control(self, client: StreamClient, text: str) -> None:
        try:
            request = json.loads(text)
            method, request_id = request["method"], request.get("id")
        except (ValueError, KeyError, TypeError):
            await client.socket.send_str(
                json.dumps({"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"})
            )
            return
        if method == "SUBSCRIBE":
            client.streams |= set(request.get("params", []))
            self.subscribed_ever |= client.streams
        elif method == "UNSUBSCRIBE":
            client.streams -= set(request.get("params", []))
        elif method == "LIST_SUBSCRIPTIONS":
            await client.socket.send_str(json.dumps({"result": sorted(client.streams), "id": request_id}))
            return
        await client.socket.send_str(json.dumps({"result": None, "id": request_id}))

    async def _send(self, client: StreamClient, stream: str, data: object) -> None:
        if time.monotonic() < self._silent_until or client.socket.closed:
            return
        if time.monotonic() - client.opened_at > self.max_lifetime:
            await client.socket.close()  # the 24-hour cut, shortened in tests
            return
        try:
            await client.socket.send_str(json.dumps({"stream": stream, "data": data}))
        except ConnectionResetError:
            return

    def _candles_at(self, open_ms: int) -> dict[str, list]:
        rows = {name: self.market.candle_at(name, open_ms) for name in self.market.symbols}
        return {name: row for name, row in rows.items() if row is not None}

    async def _send_klines(self, rows: dict[str, list], *, closed: bool) -> None:
        if self.sent_at is not None:
            now = time.time()
            self.sent_at.update({(name, int(row[0]), closed): now for name, row in rows.items()})
        for client in list(self.clients):
            for name, row in rows.items():
                stream = f"{name.lower()}@kline_1m"
                if stream in client.streams:
                    await self._send(client, stream, kline_event(name, row, closed=closed))

    async def _send_tickers(self, rows: dict[str, list]) -> None:
        for client in list(self.clients):
            if "!miniTicker@arr" in client.streams and rows:
                await self._send(client, "!miniTicker@arr", [mini_ticker(name, row) for name, row in rows.items()])

    async def publish_minute(self, open_ms: int) -> None:
        """Each subscribed symbol's candle of this minute: a forming update, then the closed kline, then tickers."""
        rows = self._candles_at(open_ms)
        await self._send_klines(rows, closed=False)
        await self._send_klines(rows, closed=True)
        await self._send_tickers(rows)

    async def publish_minute_spread(self, open_ms: int, seconds: float) -> None:
        """Like publish_minute, each symbol on its own beat across `seconds`, as Binance's per-stream timers push:
        the forming update in the first half, the closed kline in the second."""
        rows = list(self._candles_at(open_ms).items())
        for closed in (False, True):
            for name, row in rows:
                await self._send_klines({name: row}, closed=closed)
                await asyncio.sleep(seconds / 2 / max(1, len(rows)))
        await self._send_tickers(dict(rows))

    async def play_live(self) -> None:
        """Follow the market's own clock (the demo's): every second the forming candles, moving through their
        minute, and the 24h rolling tickers; each minute's candles closed as the minute ends, as Binance pushes
        them."""
        current, days = None, {}
        while True:
            now = self.market.clock()
            minute = now - now % MINUTE_MS
            if current is not None and minute > current:
                await self._send_klines(self._candles_at(current), closed=True)
            if minute != current:
                days = {name: ClosedDay.of(self.market.between(name, minute - DAY_MS + MINUTE_MS, minute - 1))
                        for name in self.market.symbols}  # fmt: skip
            current = minute
            forming = {name: forming_candle(row, (now - minute) / MINUTE_MS, tick=self._tick(name),
                                            step=self._step(name))
                       for name, row in self._candles_at(minute).items()}  # fmt: skip
            await self._send_klines(forming, closed=False)
            for client in list(self.clients):
                if "!miniTicker@arr" in client.streams and forming:
                    tickers = [rolling_mini_ticker(name, days.get(name), row, now) for name, row in forming.items()]
                    await self._send(client, "!miniTicker@arr", tickers)
            await asyncio.sleep(1.0)

    def _tick(self, name: str) -> Decimal:
        return Decimal(self.market.symbols[name].tick_size).normalize()

    def _step(self, name: str) -> Decimal:
        return Decimal(self.market.symbols[name].step_size).normalize()


class Replay:
    """Plays `minutes` of the market from `start_ms` at `minutes_per_second`, moving the market clock along."""

    def __init__(self, streams: FakeStreams, clock: ReplayClock, *, start_ms: int, minutes: int,
                 minutes_per_second: float, spread: bool = False) -> None:  # fmt: skip
        self.streams, self.clock = streams, clock
        self.start_ms, self.minutes, self.pause = start_ms, minutes, 1.0 / minutes_per_second
        self.spread = spread
        self.done = asyncio.Event()

    async def run(self) -> None:
        for minute in range(self.minutes):
            open_ms = self.start_ms + minute * MINUTE_MS
            self.clock.now_ms = open_ms + MINUTE_MS
            if self.spread:
                await self.streams.publish_minute_spread(open_ms, self.pause)
            else:
                await self.streams.publish_minute(open_ms)
                await asyncio.sleep(self.pause)
        self.done.set()
