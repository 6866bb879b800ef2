"""A real HTTP server on 127.0.0.1 that answers like CoinMarketCap's Pro API for what the metadata sync reads: the id
map (`/v1/cryptocurrency/map`), latest quotes (`/v2/cryptocurrency/quotes/latest`) and info, with the logo
(`/v2/cryptocurrency/info`).

CMC's envelope (`{"status": {...}, "data": ...}`), its API key header, credits counted per call (1 per 100 coins
for quotes and info), a daily credit limit, and its error format with the error codes of each HTTP status; tests
switch on failures: the next requests (429 with 1008, 500, ...) or every request naming some coin (a chunk that
fails). Every request is recorded. The server runs in its own event loop in a daemon thread.

Standalone: `python -m fakes.cmc_server --port 8901` (Ctrl-C stops it).
"""

import argparse
import dataclasses
import math
import re
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from fakes.http import BackgroundHttpServer, stop_on_signals
from fakes.market import DERIVED_SYMBOL_COUNT, demo_first_price

API_KEY = "fake-cmc-key"
MAP_MAX_LIMIT = 5000
COINS_PER_CREDIT = 100
INFO_AUX = ("urls", "logo", "description", "tags", "platform", "date_added", "notice")
# CMC's error codes, each with the HTTP status and message it comes with; 500 is a plain internal error.
ERRORS = {
    1001: (401, "This API Key is invalid."),
    1002: (401, "API key missing."),
    1003: (402, "Your API Key must be activated. Please go to pro.coinmarketcap.com/account/plan."),
    1004: (402, "Your API Key's subscription plan has expired."),
    1005: (403, "An API Key is required for this call."),
    1006: (403, "Your API Key subscription plan doesn't support this endpoint."),
    1007: (403, "This API Key has been disabled. Please contact support."),
    1008: (429, "You've exceeded your API Key's HTTP request rate limit. Rate limits reset every minute."),
    1009: (429, "You've exceeded your API Key's daily rate limit."),
    1010: (429, "You've exceeded your API Key's monthly rate limit."),
    1011: (429, "You've hit an IP rate limit."),
    500: (500, "An internal server error occurred."),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class FakeCoin:
    id: int
    name: str
    symbol: str
    slug: str
    rank: int | None
    price: float
    circulating_supply: float
    total_supply: float
    max_supply: float | None
    volume_24h: float
    date_added: str

    @property
    def market_cap(self) -> float:
        return self.price * self.circulating_supply


def _coin(coin_id: int, name: str, symbol: str, rank: int | None, price: float, supply: float, total: float,
          max_supply: float | None, volume: float, added: str) -> FakeCoin:  # fmt: skip
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")  # "BitTorrent [New]": bittorrent-new
    added_at = f"{added}T00:00:00.000Z"
    return FakeCoin(coin_id, name, symbol, slug, rank, price, supply, total, max_supply, volume, added_at)


# The coins of the 8 recorded symbols with their CMC ids, names and ranks of 2025-01-06 and about that day's prices
# and supplies; the coins behind two default overrides (1000SATS: SATS, BTTC: BTT); and an obscure, older coin
# that shares SOL's ticker (as Ethercoin, id 646, shares ETC with Ethereum Classic). Ids of the last three are
# illustrative.
COINS = (
    _coin(1, "Bitcoin", "BTC", 1, 102_000.0, 19_805_000, 19_805_000, 21_000_000, 5.1e10, "2010-07-13"),
    _coin(1027, "Ethereum", "ETH", 2, 3_680.0, 120_480_000, 120_480_000, None, 2.6e10, "2015-08-07"),
    _coin(52, "XRP", "XRP", 3, 2.42, 57_600_000_000, 99_986_000_000, 100_000_000_000, 9.8e9, "2013-08-04"),
    _coin(5426, "Solana", "SOL", 5, 218.0, 482_000_000, 591_000_000, None, 4.3e9, "2020-04-10"),
    _coin(1839, "BNB", "BNB", 6, 710.0, 144_007_000, 144_007_000, 200_000_000, 1.8e9, "2017-07-25"),
    _coin(74, "Dogecoin", "DOGE", 8, 0.385, 147_400_000_000, 147_400_000_000, None, 3.9e9, "2013-12-15"),
    _coin(2010, "Cardano", "ADA", 9, 1.04, 35_130_000_000, 44_990_000_000, 45_000_000_000, 1.4e9, "2017-10-01"),
    _coin(5805, "Avalanche", "AVAX", 12, 41.5, 411_000_000, 447_000_000, 715_748_719, 6.9e8, "2020-07-13"),
    _coin(28194, "SATS (Ordinals)", "SATS", 251, 2.9e-7, 2.1e15, 2.1e15, 2.1e15, 3.1e7, "2023-05-26"),
    _coin(16086, "BitTorrent [New]", "BTT", 98, 1.2e-6, 968_246_428_571_000, 990e12, 990e12, 4.6e7, "2022-01-21"),
    _coin(1706, "Solaris Coin", "SOL", 4821, 0.0031, 12_000_000, 20_000_000, 20_000_000, 1.2e3, "2017-06-02"),
)


def demo_coins() -> tuple[FakeCoin, ...]:
    """COINS plus a coin for each of the demo's derived symbols (DRV01 .. DRV40), ranked after them, priced as the
    demo's series start: illustrative metadata for synthetic markets, so that the demo's screener has it all."""
    derived = []
    for number in range(1, DERIVED_SYMBOL_COUNT + 1):
        price = float(demo_first_price(number))
        supply = 1e8 * (DERIVED_SYMBOL_COUNT + 1 - number) / price  # market caps of 0.1 to 4 billion USD
        derived.append(_coin(900_000 + number, f"Derived {number:02d}", f"DRV{number:02d}", 12 + number, price,
                             supply, supply, None, 1e6, "2024-01-01"))  # fmt: skip
    return COINS + tuple(derived)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    params: dict[str, str]
    status: int
    api_key: str | None


class CmcFault(Exception):
    """An answer in CMC's error format: `{"status": {"error_code": 1008, "error_message": "...", ...}}`."""

    def __init__(self, code: int, message: str | None = None, status: int | None = None) -> None:
        default_status, default_message = ERRORS.get(code, (400, ""))
        super().__init__(message or default_message)
        self.code, self.message, self.status = code, message or default_message, status or default_status

    def response(self) -> web.Response:
        return web.json_response({"status": _status(self.code, self.message, 0)}, status=self.status)


def _invalid(name: str, value: str) -> CmcFault:
    return CmcFault(400, f'Invalid value for "{name}": "{value}"')


class FakeCmc(BackgroundHttpServer):
    """`with FakeCmc() as fake:` serves COINS on 127.0.0.1 (an ephemeral port unless `port` is given)."""

    thread_name = "fake-cmc"

    def __init__(self, coins: tuple[FakeCoin, ...] = COINS, *, api_key: str = API_KEY, port: int = 0) -> None:
        super().__init__(port=port)
        self.coins = {coin.id: coin for coin in coins}
        self.api_key = api_key
        self.daily_credit_limit: int | None = None
        self.credits_used = 0
        self.requests: list[RecordedRequest] = []
        self.failing_ids: dict[int, int] = {}  # coin id: error code of every quotes or info request naming it
        self._failures: deque[int] = deque()
        self._lock = threading.Lock()  # tests change the settings above from their own thread

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/v1/cryptocurrency/map", self._map)
        app.router.add_get("/v2/cryptocurrency/quotes/latest", self._quotes)
        app.router.add_get("/v2/cryptocurrency/info", self._info)
        return app

    # -- failures and data, set by tests

    def fail_next(self, count: int, code: int) -> None:
        """The next `count` requests with a valid key answer CMC's error `code` (1008, 1009...) or a 500."""
        with self._lock:
            self._failures.extend([code] * count)

    def fail_ids(self, ids: set[int], code: int = 500) -> None:
        """Every quotes or info request naming one of `ids` answers error `code`: the chunk holding them fails."""
        with self._lock:
            self.failing_ids |= dict.fromkeys(ids, code)

    def update(self, coin_id: int, **changes: object) -> None:
        with self._lock:
            self.coins[coin_id] = dataclasses.replace(self.coins[coin_id], **changes)

    def add_filler(self, count: int) -> None:
        """`count` obscure coins, as the real map has about 10,000 active ones: enough for more than one page."""
        with self._lock:
            for n in range(count):
                coin = _coin(100_000 + n, f"Filler {n}", f"FILL{n}", 6000 + n, 0.001, 1e9, 1e9, None, 10.0,
                             "2024-01-01")  # fmt: skip
                self.coins[coin.id] = coin

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    # -- every request passes here

    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("X-CMC_PRO_API_KEY") or request.query.get("CMC_PRO_API_KEY")
        try:
            if not key:
                raise CmcFault(1002)
            if key != self.api_key:
                raise CmcFault(1001)
            with self._lock:
                failure = self._failures.popleft() if self._failures else None
            if failure is not None:
                raise CmcFault(failure)
            response = await handler(request)
        except CmcFault as fault:
            response = fault.response()
        with self._lock:
            self.requests.append(RecordedRequest(request.path, dict(request.query), response.status, key))
        return response

    def _charge(self, credits: int) -> None:
        with self._lock:
            if self.daily_credit_limit is not None and self.credits_used + credits > self.daily_credit_limit:
                raise CmcFault(1009)
            self.credits_used += credits

    def _answer(self, data: object, credits: int) -> web.Response:
        self._charge(credits)
        return web.json_response({"status": _status(0, None, credits), "data": data})

    # -- endpoints

    async def _map(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("listing_status", "active") != "active":
            return self._answer([], 1)  # every coin here is active
        start, limit = _integer(query, "start", 1), _integer(query, "limit", MAP_MAX_LIMIT)
        if start < 1:
            raise CmcFault(400, '"start" must be larger than or equal to 1')
        if not 1 <= limit <= MAP_MAX_LIMIT:
            raise CmcFault(400, f'"limit" must be less than or equal to {MAP_MAX_LIMIT}')
        with self._lock:
            coins = sorted(self.coins.values(), key=lambda coin: coin.id)
        if "symbol" in query:
            wanted = set(query["symbol"].split(","))
            coins = [coin for coin in coins if coin.symbol in wanted]
        return self._answer([_map_entry(coin) for coin in coins[start - 1 : start - 1 + limit]], 1)

    async def _quotes(self, request: web.Request) -> web.Response:
        coins = self._requested(request, skip_invalid_default=True)
        return self._answer({str(coin.id): _quote(coin) for coin in coins}, _credits(len(coins)))

    async def _info(self, request: web.Request) -> web.Response:
        coins = self._requested(request, skip_invalid_default=False)
        aux = request.query.get("aux", ",".join(INFO_AUX)).split(",")
        return self._answer({str(coin.id): _info(coin, aux) for coin in coins}, _credits(len(coins)))

    def _requested(self, request: web.Request, *, skip_invalid_default: bool) -> list[FakeCoin]:
        """The coins of `id` (this fake knows no lookup by symbol or slug); unknown ids refused or skipped."""
        query = request.query
        if not query.get("id"):
            raise CmcFault(400, '"value" must contain at least one of [id, symbol, slug]')
        ids = []
        for value in query["id"].split(","):
            if not value.isdigit():
                raise _invalid("id", value)
            ids.append(int(value))
        skip_invalid = query.get("skip_invalid", str(skip_invalid_default).lower()) == "true"
        with self._lock:
            failing = [self.failing_ids[coin_id] for coin_id in ids if coin_id in self.failing_ids]
            unknown = [coin_id for coin_id in ids if coin_id not in self.coins]
            coins = [self.coins[coin_id] for coin_id in ids if coin_id in self.coins]
        if failing:
            raise CmcFault(failing[0])
        if unknown and not skip_invalid:
            raise _invalid("id", ",".join(map(str, unknown)))
        return coins


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _status(error_code: int, error_message: str | None, credits: int) -> dict[str, object]:
    return {"timestamp": _timestamp(), "error_code": error_code, "error_message": error_message, "elapsed": 1,
            "credit_count": credits, "notice": None}  # fmt: skip


def _credits(coins: int) -> int:
    return max(1, math.ceil(coins / COINS_PER_CREDIT))


def _integer(query: Any, name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise _invalid(name, value)
    return int(value)


def _logo(coin: FakeCoin) -> str:
    return f"https://s2.coinmarketcap.com/static/img/coins/64x64/{coin.id}.png"


def _map_entry(coin: FakeCoin) -> dict[str, object]:
    return {"id": coin.id, "rank": coin.rank, "name": coin.name, "symbol": coin.symbol, "slug": coin.slug,
            "is_active": 1, "first_historical_data": coin.date_added, "last_historical_data": _timestamp(),
            "platform": None}  # fmt: skip


def _quote(coin: FakeCoin) -> dict[str, object]:
    now = _timestamp()
    usd = {
        "price": coin.price, "volume_24h": coin.volume_24h, "volume_change_24h": 0.0, "percent_change_1h": 0.0,
        "percent_change_24h": 0.0, "percent_change_7d": 0.0, "percent_change_30d": 0.0, "percent_change_60d": 0.0,
        "percent_change_90d": 0.0, "market_cap": coin.market_cap, "market_cap_dominance": 0.0,
        "fully_diluted_market_cap": coin.price * (coin.max_supply or coin.total_supply), "tvl": None,
        "last_updated": now,
    }  # fmt: skip
    return {
        "id": coin.id, "name": coin.name, "symbol": coin.symbol, "slug": coin.slug, "num_market_pairs": 100,
        "date_added": coin.date_added, "tags": [], "max_supply": coin.max_supply,
        "circulating_supply": coin.circulating_supply, "total_supply": coin.total_supply, "is_active": 1,
        "infinite_supply": coin.max_supply is None, "platform": None, "cmc_rank": coin.rank, "is_fiat": 0,
        "self_reported_circulating_supply": None, "self_reported_market_cap": None, "tvl_ratio": None,
        "last_updated": now, "quote": {"USD": usd},
    }  # fmt: skip


def _info(coin: FakeCoin, aux: list[str]) -> dict[str, object]:
    extra = {
        "urls": {"website": [], "twitter": [], "message_board": [], "chat": [], "facebook": [], "explorer": [],
                 "reddit": [], "technical_doc": [], "source_code": [], "announcement": []},
        "logo": _logo(coin), "description": f"{coin.name} ({coin.symbol}) is a cryptocurrency.", "tags": [],
        "platform": None, "date_added": coin.date_added, "notice": "",
    }  # fmt: skip
    return {"id": coin.id, "name": coin.name, "symbol": coin.symbol, "category": "coin", "slug": coin.slug,
            **{name: value for name, value in extra.items() if name in aux}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fakes.cmc_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8901)
    arguments = parser.parse_args()
    stop = stop_on_signals()
    with FakeCmc(port=arguments.port) as fake:
        print(f"fake CoinMarketCap on {fake.url}, API key {fake.api_key} (Ctrl-C stops it)", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
