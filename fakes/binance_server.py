"""A real HTTP server on 127.0.0.1 that answers like Binance's spot REST API and its public data archive
(data.binance.vision), from a FakeMarket; it also serves the WebSocket streams of fakes/binance_stream.py.

Request weights and the X-MBX-USED-WEIGHT headers, 429 and then 418 for a client that keeps going, Binance's error
codes, injected 5xx, dropped connections and garbled answers: what a client must survive against the real exchange.
The server runs in its own event loop in a daemon thread, so synchronous tests and processes can use it.

Standalone: `python -m fakes.binance_server --demo --port 8900` (Ctrl-C stops it).
"""

import argparse
import asyncio
import hashlib
import io
import json
import math
import re
import threading
import time
import zipfile
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from fakes import recorded
from fakes.binance_stream import FakeStreams, Replay, ReplayClock
from fakes.http import stop_on_signals
from fakes.market import DAY_MS, MINUTE_MS, FakeMarket, FakeSymbol, demo_market, recorded_market

WEIGHTS = {"/api/v3/ping": 1, "/api/v3/time": 1, "/api/v3/exchangeInfo": 20, "/api/v3/klines": 2}
TICKER_24H = "/api/v3/ticker/24hr"
KLINES_DEFAULT_LIMIT = 500
KLINES_MAX_LIMIT = 1000
MICROSECOND_ARCHIVES_FROM_MS = 1735689600000  # 2025-01-01: the archive's spot files carry microseconds from then on
ARCHIVE_NAME = re.compile(r"(?P<symbol>[A-Z0-9]+)-1m-(?P<date>\d{4}-\d{2}(?P<day>-\d{2})?)\.zip")
INTERNAL_ERROR = "Internal error; unable to process your request. Please try again."

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    params: dict[str, str]
    status: int  # 0: the connection was closed with no response
    weight: int  # what the request added to the minute's used weight (none when refused with 429 or 418)


class Mishap(Enum):
    DROP = "the connection closes with no response"
    GARBLE = "HTTP 200 with an HTML page, as from a proxy in the way"


class BinanceError(Exception):
    """An answer in Binance's error format, `{"code": -1121, "msg": "Invalid symbol."}`."""

    def __init__(self, status: int, code: int, msg: str, retry_after: int | None = None) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg, self.retry_after = status, code, msg, retry_after

    def response(self) -> web.Response:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        return web.json_response({"code": self.code, "msg": self.msg}, status=self.status, headers=headers)


def _bad_request(code: int, msg: str) -> BinanceError:
    return BinanceError(400, code, msg)


class FakeBinance:
    """`with FakeBinance(market) as fake:` serves `market` on 127.0.0.1 (an ephemeral port unless `port` is given)."""

    def __init__(self, market: FakeMarket, *, port: int = 0) -> None:
        self.market = market
        self.streams = FakeStreams(market)
        self.weight_limit = 6000  # REQUEST_WEIGHT per wall-clock minute, as exchangeInfo announces it
        self.retry_after = 60  # seconds, sent on 429 and 418; a ban lasts as long
        self.banned = False  # whether any request was ever answered 418
        self.requests: list[RecordedRequest] = []
        self.unpublished: set[str] = set()  # archive zips to answer 404 for, as before Binance publishes them
        self._last_zip: tuple[tuple[str, str, str], bytes] | None = None  # its CHECKSUM is asked for next
        self._port = port
        self._lock = threading.Lock()  # tests change the settings above from their own thread
        self._mishaps: deque[int | Mishap] = deque()
        self._minute, self._used = 0, 0
        self._retry_until = self._banned_until = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-binance", daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    archive_url = rest_url  # data.binance.vision's paths, on the same server

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}"

    # -- lifecycle

    def __enter__(self) -> "FakeBinance":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        try:
            self._run(self._serve())
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._run(self._shutdown())
        self._stop_loop()

    def _run(self, coroutine: Coroutine[Any, Any, object]) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/api/v3/ping", self._ping)
        app.router.add_get("/api/v3/time", self._time)
        app.router.add_get("/api/v3/exchangeInfo", self._exchange_info)
        app.router.add_get("/api/v3/klines", self._klines)
        app.router.add_get(TICKER_24H, self._ticker_24h)
        app.router.add_get("/data/spot/{period:daily|monthly}/klines/{symbol}/1m/{name}", self._archive)
        app.router.add_get("/stream", self.streams.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        self._port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        # Replays, live playback and open WebSocket handlers would otherwise keep the runner waiting.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self._runner.cleanup()

    # -- the WebSocket side (see fakes/binance_stream.py)

    def call(self, function: Callable[[], object]) -> object:
        """Run `function` (a plain callable or one returning a coroutine) in the fake's event loop; wait for it."""

        async def run() -> object:
            result = function()
            return await result if isinstance(result, Awaitable) else result

        return self._run(run())

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

    # -- mishaps and limits, set by tests

    def fail_next(self, count: int, status: int = 503) -> None:
        """The next `count` REST requests answer `status`: a 5xx with Binance's -1001 body, or a real 429 or 418."""
        self._queue_mishaps(count, status)

    def drop_next(self, count: int) -> None:
        self._queue_mishaps(count, Mishap.DROP)

    def garble_next(self, count: int) -> None:
        self._queue_mishaps(count, Mishap.GARBLE)

    def _queue_mishaps(self, count: int, mishap: int | Mishap) -> None:
        with self._lock:
            self._mishaps.extend([mishap] * count)

    @property
    def used_weight(self) -> int:
        with self._lock:
            return self._used_in_this_minute(time.time())

    # -- every request passes here

    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        weight = _weight(request)
        if not weight:  # the archive and the streams are not weighed, as on Binance's other hosts
            response = await handler(request)
            self._record(request, response.status, 0)
            return response
        mishap = None
        try:
            with self._lock:
                mishap = self._admit(weight, time.time())
            response = await self._answer(request, handler, mishap)
            charged = weight
        except BinanceError as error:
            response, charged = error.response(), 0 if error.status in (418, 429) else weight
        response.headers["X-MBX-USED-WEIGHT"] = response.headers["X-MBX-USED-WEIGHT-1M"] = str(self.used_weight)
        self._record(request, 0 if mishap is Mishap.DROP else response.status, charged)
        return response

    def _admit(self, weight: int, now: float) -> int | Mishap | None:
        """Charge `weight` to this minute, or refuse the request (BinanceError); the mishap it is due for, if any."""
        mishap = self._mishaps.popleft() if self._mishaps else None
        if mishap == 418 or now < self._retry_until:
            self._ban(now)  # a request within Retry-After of a 429 gets the IP banned
        if now < self._banned_until:
            raise self._banned_error(now)
        if mishap == 429 or self._used_in_this_minute(now) + weight > self.weight_limit:
            self._retry_until = now + self.retry_after
            raise BinanceError(429, -1003, f"Too many requests; current limit of IP is {self.weight_limit} requests "
                               "per minute. Please use the websocket for live updates to avoid polling the API.",
                               retry_after=self.retry_after)  # fmt: skip
        self._used = self._used_in_this_minute(now) + weight
        self._minute = _minute_of(now)
        return mishap

    def _used_in_this_minute(self, now: float) -> int:
        return self._used if self._minute == _minute_of(now) else 0

    def _ban(self, now: float) -> None:
        self.banned = True
        self._banned_until = now + self.retry_after
        self._retry_until = 0.0  # the ban takes over: requests while it lasts do not lengthen it

    def _banned_error(self, now: float) -> BinanceError:
        until_ms = int(self._banned_until * 1000)
        return BinanceError(418, -1003, f"Way too much request weight used; IP banned until {until_ms}. Please use "
                            "WebSocket Streams for live updates to avoid bans.",
                            retry_after=math.ceil(self._banned_until - now))  # fmt: skip

    async def _answer(self, request: web.Request, handler: Handler, mishap: int | Mishap | None) -> web.StreamResponse:
        if mishap is None:
            return await handler(request)
        if mishap is Mishap.DROP:
            request.transport.abort()
            return web.Response(status=500)  # never sent: the connection is gone
        if mishap is Mishap.GARBLE:
            return web.Response(text="<html><body>upstream connect error</body></html>", content_type="text/html")
        raise BinanceError(mishap, -1001, INTERNAL_ERROR)

    def _record(self, request: web.Request, status: int, weight: int) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(request.path, dict(request.query), status, weight))

    # -- REST

    async def _ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def _time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": self.market.clock()})

    async def _exchange_info(self, request: web.Request) -> web.Response:
        symbols = [self.market.symbols[name] for name in self._requested_symbols(request.query)]
        return web.json_response({
            "timezone": "UTC",
            "serverTime": self.market.clock(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [],
            "symbols": [_symbol_entry(symbol) for symbol in symbols],
        })  # fmt: skip

    async def _klines(self, request: web.Request) -> web.Response:
        query = request.query
        symbol = _mandatory(query, "symbol")
        if _mandatory(query, "interval") != "1m":  # the market keeps 1m candles only: others answer as unknown ones
            raise _bad_request(-1120, "Invalid interval.")
        limit = _integer(query, "limit", KLINES_DEFAULT_LIMIT)
        if not 1 <= limit <= KLINES_MAX_LIMIT:
            raise _bad_request(-1130, "Data sent for parameter 'limit' is not valid.")
        start_ms, end_ms = _integer(query, "startTime"), _integer(query, "endTime", self.market.clock())
        rows = self.market.between(self._known(symbol), start_ms or 0, end_ms, limit=limit, newest=start_ms is None)
        return web.json_response(rows)

    async def _ticker_24h(self, request: web.Request) -> web.Response:
        tickers = [self._ticker(name) for name in self._requested_symbols(request.query)]
        return web.json_response(tickers[0] if "symbol" in request.query else tickers)

    def _requested_symbols(self, query: MultiMapping[str]) -> list[str]:
        """The `symbol` or `symbols` (a JSON array) asked for, all of them when neither is sent."""
        if "symbol" in query:
            return [self._known(query["symbol"])]
        if "symbols" not in query:
            return list(self.market.symbols)
        try:
            names = json.loads(query["symbols"])
        except ValueError:
            names = None
        if not isinstance(names, list) or not names:
            raise _bad_request(-1100, "Illegal characters found in parameter 'symbols'.")
        return [self._known(name) for name in names]

    def _known(self, symbol: str) -> str:
        if symbol not in self.market.symbols:
            raise _bad_request(-1121, "Invalid symbol.")
        return symbol

    def _ticker(self, name: str) -> dict[str, object]:
        """24 hours of the market's minutes up to now, in the shape of Binance's 24hr ticker."""
        now_ms = self.market.clock()
        open_ms = now_ms - DAY_MS
        rows = self.market.between(name, open_ms - MINUTE_MS, now_ms)
        previous = rows.pop(0) if rows and rows[0][0] < open_ms else None
        if not rows:
            return _quiet_ticker(name, open_ms, now_ms)
        return _ticker_entry(self.market.symbols[name], rows, previous, open_ms, now_ms)

    # -- archive (data.binance.vision)

    async def _archive(self, request: web.Request) -> web.Response:
        period, symbol, name = (request.match_info[key] for key in ("period", "symbol", "name"))
        zip_name = name.removesuffix(".CHECKSUM")
        zipped = None if zip_name in self.unpublished else self._archive_zip(period, symbol, zip_name, name != zip_name)
        if zipped is None:
            return _no_such_key(request.path)
        if name.endswith(".CHECKSUM"):
            return web.Response(text=f"{hashlib.sha256(zipped).hexdigest()}  {zip_name}")
        return web.Response(body=zipped, content_type="application/zip")

    def _archive_zip(self, period: str, symbol: str, zip_name: str, for_checksum: bool) -> bytes | None:
        """The zip to answer with, or to answer the CHECKSUM of. A CHECKSUM is of the zip just served, as Binance
        publishes the two together; clients fetch it right after, and building a month again costs as much."""
        key = (period, symbol, zip_name)
        if for_checksum and self._last_zip is not None and self._last_zip[0] == key:
            return self._last_zip[1]
        zipped = self._built_zip(period, symbol, zip_name)
        self._last_zip = None if zipped is None else (key, zipped)
        return zipped

    def _built_zip(self, period: str, symbol: str, zip_name: str) -> bytes | None:
        """The zip of a past day or month of the market's candles; None where Binance has no such file."""
        span = _archive_span(period, symbol, zip_name)
        if span is None or symbol not in self.market.symbols or span[1] > self.market.clock():
            return None
        rows = self.market.between(symbol, span[0], span[1] - 1)
        if not rows:
            return None
        content = _archive_csv(rows, microseconds=span[0] >= MICROSECOND_ARCHIVES_FROM_MS)
        member = zip_name.removesuffix(".zip") + ".csv"
        return recorded.original_archive_zip(zip_name, content) or _zipped(member, content)


def _minute_of(now: float) -> int:
    return int(now // 60)


def _weight(request: web.Request) -> int:
    query = request.query
    if request.path != TICKER_24H:
        return WEIGHTS.get(request.path, 0)
    if "symbol" in query:
        return 2
    if "symbols" not in query:
        return 80
    count = query["symbols"].count(",") + 1
    return 2 if count <= 20 else 40 if count <= 100 else 80


def _mandatory(query: MultiMapping[str], name: str) -> str:
    if not query.get(name):
        raise _bad_request(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return query[name]


def _integer(query: MultiMapping[str], name: str, default: int | None = None) -> int | None:
    if name not in query:
        return default
    if not query[name].isdigit():
        raise _bad_request(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.")
    return int(query[name])


def _symbol_entry(symbol: FakeSymbol) -> dict[str, object]:
    return {
        "symbol": symbol.symbol, "status": symbol.status, "baseAsset": symbol.base_asset, "baseAssetPrecision": 8,
        "quoteAsset": symbol.quote_asset, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                       "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "opoAllowed": True,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True, "cancelReplaceAllowed": True,
        "amendAllowed": True, "pegInstructionsAllowed": True, "isSpotTradingAllowed": True,
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


def _ticker_entry(symbol: FakeSymbol, rows: list[list], previous: list | None, open_ms: int, now_ms: int) -> dict:
    open_price, last_price = Decimal(rows[0][1]), Decimal(rows[-1][4])
    volume = sum(map(Decimal, (row[5] for row in rows)))
    quote_volume = sum(map(Decimal, (row[7] for row in rows)))
    count = sum(row[8] for row in rows)
    last_qty = Decimal(rows[-1][5]) / max(rows[-1][8], 1)  # the last minute's average trade
    first_id = open_ms // 1000  # trade ids only need to grow with time and span `count`
    return {
        "symbol": symbol.symbol, "priceChange": _eight(last_price - open_price),
        "priceChangePercent": f"{(last_price - open_price) / open_price * 100:.3f}",
        "weightedAvgPrice": _eight(quote_volume / volume if volume else last_price),
        "prevClosePrice": previous[4] if previous else rows[0][1], "lastPrice": rows[-1][4],
        "lastQty": _eight(last_qty), "bidPrice": rows[-1][4], "bidQty": _eight(last_qty),
        "askPrice": _eight(last_price + Decimal(symbol.tick_size)), "askQty": _eight(last_qty),
        "openPrice": rows[0][1], "highPrice": max(rows, key=lambda row: Decimal(row[2]))[2],
        "lowPrice": min(rows, key=lambda row: Decimal(row[3]))[3], "volume": _eight(volume),
        "quoteVolume": _eight(quote_volume), "openTime": open_ms, "closeTime": now_ms, "firstId": first_id,
        "lastId": first_id + count - 1, "count": count,
    }  # fmt: skip


def _quiet_ticker(name: str, open_ms: int, now_ms: int) -> dict[str, object]:
    """No trade in 24 hours: Binance answers zeros and trade ids of -1."""
    zero = _eight(Decimal(0))
    prices = ("priceChange", "weightedAvgPrice", "prevClosePrice", "lastPrice", "lastQty", "bidPrice", "bidQty",
              "askPrice", "askQty", "openPrice", "highPrice", "lowPrice", "volume", "quoteVolume")  # fmt: skip
    return {"symbol": name, "priceChangePercent": "0.000", **dict.fromkeys(prices, zero), "openTime": open_ms,
            "closeTime": now_ms, "firstId": -1, "lastId": -1, "count": 0}  # fmt: skip


def _eight(value: Decimal) -> str:
    return f"{value:.8f}"


def _archive_span(period: str, symbol: str, zip_name: str) -> tuple[int, int] | None:
    """[start, end) in ms of the day or month a file of that folder is named for; None for any other name."""
    match = ARCHIVE_NAME.fullmatch(zip_name)
    daily = period == "daily"
    if match is None or match["symbol"] != symbol or (match["day"] is not None) != daily:
        return None
    try:
        start = datetime.strptime(match["date"], "%Y-%m-%d" if daily else "%Y-%m").replace(tzinfo=UTC)
    except ValueError:  # 2020-13, 2020-02-30
        return None
    end = start + timedelta(days=1) if daily else (start + timedelta(days=31)).replace(day=1)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _archive_csv(rows: list[list], *, microseconds: bool) -> bytes:
    """Binance's archive layout: the 12 REST columns, no header; from 2025 on, times in microseconds."""

    def line(row: list) -> str:
        open_time, close_time = row[0], row[6]
        if microseconds:  # the close time keeps its last instant: ...59999 ms becomes ...59999999 us
            open_time, close_time = open_time * 1000, close_time * 1000 + 999
        return ",".join(map(str, [open_time, *row[1:6], close_time, *row[7:]])) + "\n"

    return "".join(map(line, rows)).encode()


def _zipped(member: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # A fixed date: the same candles give the same bytes, so a CHECKSUM fetched apart still matches. Level 1:
        # a month of minutes deflates 3.5 times faster than at the default level, for a zip 1.5 times bigger.
        archive.writestr(zipfile.ZipInfo(member, date_time=(2025, 1, 1, 0, 0, 0)), content, zipfile.ZIP_DEFLATED,
                         compresslevel=1)  # fmt: skip
    return buffer.getvalue()


def _no_such_key(path: str) -> web.Response:
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
            f"<Message>The specified key does not exist.</Message><Key>{path.lstrip('/')}</Key></Error>")  # fmt: skip
    return web.Response(status=404, body=body.encode(), content_type="application/xml")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fakes.binance_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--demo", action="store_true", help="serve make demo's 48 symbols, replayed in shifted real "
                        "time; without it, the 8 recorded symbols at their real dates (2025-01-06 to 19)")  # fmt: skip
    arguments = parser.parse_args()
    market = demo_market() if arguments.demo else recorded_market(recorded.REST_SYMBOLS)
    stop = stop_on_signals()
    with FakeBinance(market, port=arguments.port) as fake:
        if arguments.demo:
            fake.play_live()
        print(f"fake Binance with {len(market.symbols)} symbols: REST and archive on {fake.rest_url}, streams on "
              f"{fake.ws_url}/stream (Ctrl-C stops it)", flush=True)  # fmt: skip
        stop.wait()


if __name__ == "__main__":
    main()
