"""A real HTTP server on 127.0.0.1 that answers like Binance's spot REST API and its public data archive.

Weights, X-MBX-USED-WEIGHT headers, 429 then 418 for who keeps going, -1121 for unknown symbols, injected bursts of
5xx and dropped connections: exactly what a client must survive against the real exchange.
"""

import argparse
import asyncio
import contextlib
import hashlib
import io
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from fakes import recorded
from fakes.binance_stream import FakeStreams, Replay, ReplayClock
from fakes.market import DAY_MS, FakeMarket, demo_market

INTERVALS = {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"}
WEIGHTS = {"/api/v3/klines": 2, "/api/v3/exchangeInfo": 20, "/api/v3/ping": 1, "/api/v3/time": 1}
# From 2025-01-01 the archive's spot files carry microsecond timestamps.
ARCHIVE_MICROSECONDS_FROM_MS = 1735689600000


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    params: dict
    status: int
    weight: int


def _error(status: int, code: int, msg: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status, headers=headers)


class FakeBinance:
    def __init__(self, market: FakeMarket, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.market = market
        self.weight_limit = 6000
        self.retry_after = 1
        self.requests: list[RecordedRequest] = []
        self.banned = False
        self.unpublished: set[str] = set()  # archive file names to answer 404 for, as before Binance publishes them
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._failures: list[int] = []  # statuses to answer next; 0 drops the connection, 200 garbles the body
        self._minute, self._used = 0, 0
        self._blocked_until = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-binance", daemon=True)
        self._runner: web.AppRunner | None = None
        self.streams = FakeStreams(market)

    # -- control, from tests
    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures += [status] * count

    def drop_next(self, count: int) -> None:
        self.fail_next(count, status=0)

    def garble_next(self, count: int) -> None:
        """The next `count` REST requests get HTTP 200 with an HTML page, as from a proxy in the way."""
        self.fail_next(count, status=200)

    @property
    def used_weight(self) -> int:
        with self._lock:
            return self._used if self._minute == int(time.time() // 60) else 0

    @property
    def rest_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self._host}:{self._port}"

    def call(self, function: Callable[[], object]) -> object:
        """Run `function` (a plain callable or one returning a coroutine) in the fake's event loop; wait for it."""

        async def run() -> object:
            result = function()
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def play_live(self) -> None:
        """Push the market's candles over the streams as its clock (the wall clock, for the demo) moves."""
        asyncio.run_coroutine_threadsafe(self.streams.play_live(), self._loop)

    def replay(self, *, start_ms: int, minutes: int, minutes_per_second: float, spread: bool = False) -> Replay:
        """Start replaying the market over the streams, its clock moving with the replay; returns at once."""
        clock = ReplayClock(start_ms)
        self.market.clock = clock
        replay = Replay(self.streams, clock, start_ms=start_ms, minutes=minutes, minutes_per_second=minutes_per_second,
                        spread=spread)  # fmt: skip
        asyncio.run_coroutine_threadsafe(replay.run(), self._loop)
        return replay

    archive_url = rest_url

    # -- lifecycle
    def __enter__(self) -> "FakeBinance":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        """Stop replays and live playback, then the server."""
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self._runner.cleanup()

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._limits])
        app.router.add_get("/api/v3/exchangeInfo", self._exchange_info)
        app.router.add_get("/api/v3/klines", self._klines)
        app.router.add_get("/api/v3/ticker/24hr", self._ticker_24h)
        app.router.add_get("/api/v3/ping", self._ping)
        app.router.add_get("/api/v3/time", self._time)
        app.router.add_get("/data/spot/{period}/klines/{symbol}/1m/{name}", self._archive)
        app.router.add_get("/stream", self.streams.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]

    # -- request weight, bans and injected failures
    def _weight(self, request: web.Request) -> int:
        if request.path == "/api/v3/ticker/24hr":
            return 2 if "symbol" in request.query else 80
        return WEIGHTS.get(request.path, 0)

    def _charge(self, weight: int) -> int:
        minute = int(time.time() // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
        self._used += weight
        return self._used

    @web.middleware
    async def _limits(self, request: web.Request, handler) -> web.StreamResponse:
        weight = self._weight(request)
        with self._lock:
            failure = self._failures.pop(0) if self._failures and weight else None
            response = self._refusal(weight, failure)
            used = self._charge(weight) if response is None or response.status >= 500 else self._used
        if failure == 0:
            request.transport.close()
            raise ConnectionResetError("dropped by the fake exchange")
        if response is None:
            response = await handler(request)
        if weight:
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(used)
            response.headers["X-MBX-USED-WEIGHT"] = str(used)
        self.requests.append(RecordedRequest(request.path, dict(request.query), response.status, weight))
        return response

    def _refusal(self, weight: int, failure: int | None) -> web.Response | None:
        now = time.time()
        retry = {"Retry-After": str(self.retry_after)}
        if failure == 418 or (weight and now < self._blocked_until):
            self.banned = True
            self._blocked_until = max(self._blocked_until, now + self.retry_after)
            until = int(self._blocked_until * 1000)
            return _error(418, -1003, f"Way too much request weight used; IP banned until {until}. Please use "
                          "WebSocket Streams for live updates to avoid bans.", retry)  # fmt: skip
        if failure == 429 or (weight and self._used_now() + weight > self.weight_limit):
            self._blocked_until = now + self.retry_after
            message = (f"Too many requests; current limit of IP is {self.weight_limit} requests per minute. "
                       "Please use the websocket for live updates to avoid polling the API.")  # fmt: skip
            return _error(429, -1003, message, retry)
        if failure == 200:
            return web.Response(text="<html><body>upstream connect error</body></html>", content_type="text/html")
        if failure:
            return _error(failure, -1001, "Internal error; unable to process your request. Please try again.")
        return None

    def _used_now(self) -> int:
        return self._used if self._minute == int(time.time() // 60) else 0

    # -- REST
    def _symbol_entry(self, name: str) -> dict:
        symbol = self.market.symbols[name]
        return {
            "symbol": name, "status": symbol.status, "baseAsset": symbol.base_asset, "baseAssetPrecision": 8,
            "quoteAsset": symbol.quote_asset, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": symbol.tick_size, "maxPrice": "1000000.00000000",
                 "tickSize": symbol.tick_size},
                {"filterType": "LOT_SIZE", "minQty": symbol.step_size, "maxQty": "9000000.00000000",
                 "stepSize": symbol.step_size},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            ],
            "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }  # fmt: skip

    async def _ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def _time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": self.market.clock()})

    async def _exchange_info(self, request: web.Request) -> web.Response:
        names = [request.query["symbol"]] if "symbol" in request.query else list(self.market.symbols)
        if any(name not in self.market.symbols for name in names):
            return _error(400, -1121, "Invalid symbol.")
        return web.json_response({
            "timezone": "UTC", "serverTime": self.market.clock(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [], "symbols": [self._symbol_entry(name) for name in names],
        })  # fmt: skip

    async def _klines(self, request: web.Request) -> web.Response:
        query = request.query
        if "symbol" not in query:
            return _error(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        if query.get("interval") not in INTERVALS:
            return _error(400, -1120, "Invalid interval.")
        if query["symbol"] not in self.market.symbols:
            return _error(400, -1121, "Invalid symbol.")
        try:
            limit = int(query.get("limit", 500))
            start, end = (int(query[key]) if key in query else None for key in ("startTime", "endTime"))
        except ValueError:
            return _error(400, -1100, "Illegal characters found in a parameter.")
        if not 1 <= limit <= 1000:
            return _error(400, -1130, "Invalid data sent for a parameter.")
        if query["interval"] != "1m":
            return _error(400, -1120, "Invalid interval.")  # this fake only keeps 1m candles
        rows = self.market.between(query["symbol"], start or 0, end if end is not None else 2**62)
        return web.json_response(rows[:limit] if start is not None else rows[-limit:])

    async def _ticker_24h(self, request: web.Request) -> web.Response:
        names = [request.query["symbol"]] if "symbol" in request.query else list(self.market.symbols)
        if any(name not in self.market.symbols for name in names):
            return _error(400, -1121, "Invalid symbol.")
        tickers = [self._ticker(name) for name in names]
        return web.json_response(tickers[0] if "symbol" in request.query else tickers)

    def _ticker(self, name: str) -> dict:
        now = self.market.clock()
        rows = self.market.between(name, now - DAY_MS, now) or [[now, "0", "0", "0", "0", "0", now, "0", 0]]
        first, last = rows[0], rows[-1]
        open_, close = float(first[1]), float(last[4])
        volume = sum(float(row[5]) for row in rows)
        quote_volume = sum(float(row[7]) for row in rows)
        return {
            "symbol": name, "priceChange": f"{close - open_:.8f}",
            "priceChangePercent": f"{(close - open_) / open_ * 100 if open_ else 0:.3f}",
            "weightedAvgPrice": f"{quote_volume / volume if volume else 0:.8f}", "prevClosePrice": first[1],
            "lastPrice": last[4], "lastQty": "0.00000000", "bidPrice": last[4], "bidQty": "1.00000000",
            "askPrice": last[4], "askQty": "1.00000000", "openPrice": first[1],
            "highPrice": f"{max(float(row[2]) for row in rows):.8f}",
            "lowPrice": f"{min(float(row[3]) for row in rows):.8f}", "volume": f"{volume:.8f}",
            "quoteVolume": f"{quote_volume:.8f}", "openTime": int(first[0]), "closeTime": now, "firstId": 0,
            "lastId": sum(int(row[8]) for row in rows), "count": sum(int(row[8]) for row in rows),
        }  # fmt: skip

    # -- archive (data.binance.vision layout)
    async def _archive(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name.removesuffix(".CHECKSUM") in self.unpublished:
            return _not_found(request.path)
        original = recorded.archive_file(name)
        if original is not None:
            return web.Response(body=original)
        zipped = self._archive_zip(request.match_info["period"], request.match_info["symbol"], name.split(".zip")[0])
        if zipped is None:
            return _not_found(request.path)
        if name.endswith(".CHECKSUM"):
            return web.Response(text=f"{hashlib.sha256(zipped).hexdigest()}  {name.removesuffix('.CHECKSUM')}\n")
        return web.Response(body=zipped, content_type="application/zip")

    def _archive_zip(self, period: str, symbol: str, stem: str) -> bytes | None:
        if symbol not in self.market.symbols or period not in ("daily", "monthly"):
            return None
        try:
            start = datetime.strptime(stem.split("-1m-")[1], "%Y-%m-%d" if period == "daily" else "%Y-%m")
        except (IndexError, ValueError):
            return None
        start_ms = int(start.replace(tzinfo=UTC).timestamp() * 1000)
        end_ms = start_ms + DAY_MS if period == "daily" else _next_month_ms(start)
        rows = self.market.between(symbol, start_ms, end_ms - 1)
        if not rows or end_ms > self.market.clock():
            return None
        return _zipped(f"{stem}.csv", rows, microseconds=start_ms >= ARCHIVE_MICROSECONDS_FROM_MS)


def _not_found(path: str) -> web.Response:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
            f"<Message>The specified key does not exist.</Message><Key>{path}</Key></Error>")  # fmt: skip
    return web.Response(status=404, content_type="application/xml", text=body)


def _next_month_ms(start: datetime) -> int:
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def _zipped(member: str, rows: list[list], *, microseconds: bool) -> bytes:
    scale = 1000 if microseconds else 1
    lines = "".join(
        ",".join(map(str, [int(row[0]) * scale, *row[1:6], int(row[6]) * scale, *row[7:]])) + "\n" for row in rows
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(member, date_time=(2025, 1, 1, 0, 0, 0)), lines)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake Binance exchange with the demo market.")
    parser.add_argument("--port", type=int, default=8900)
    arguments = parser.parse_args()
    with FakeBinance(demo_market(), port=arguments.port) as fake:
        print(f"fake Binance on {fake.rest_url} (Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
