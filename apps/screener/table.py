"""The screener table each web process keeps: a row per tracked symbol, already encoded as JSON, and a column per
field for filtering and ordering. Requests only filter, order and slice it; they never compute anything.

The pipeline keeps it fresh: whoever writes snapshots or metadata bumps a version in the cache (Redis, shared by
every process); the streamer keeps the live tickers there. Each process looks at most every
SCREENER_REFRESH_SECONDS, reloads only the part that changed and re-encodes only the rows' small heads.
"""

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import orjson
from django.conf import settings
from django.core.cache import cache

from apps.market.intervals import MINUTE_MS
from apps.screener import selectors
from apps.screener.fields import DEFAULT_ORDERING, NUMBER_FIELDS, TEXT_FIELDS, indicator_fields

SNAPSHOTS_VERSION = "screener:version:snapshots"  # the snapshots and the signals computed from them
SYMBOLS_VERSION = "screener:version:symbols"
SYMBOLS_MAX_AGE_SECONDS = 60.0  # symbols switched on or off in the admin show within a minute


def screener_sources_changed(key: str) -> None:
    """Tell every process that a part of the table is out of date (SNAPSHOTS_VERSION or SYMBOLS_VERSION)."""
    cache.set(key, time.time_ns(), timeout=None)


@dataclass(frozen=True)
class ScreenerQuery:
    filters: tuple[tuple[str, str, float | str], ...] = ()  # field, operator (eq, lt, lte, gt, gte), value
    search: str = ""
    ordering: tuple[tuple[str, bool], ...] = DEFAULT_ORDERING  # field, descending
    page: int = 1
    page_size: int = 100

    @property
    def key(self) -> str:
        return repr((self.filters, self.search, self.ordering, self.page, self.page_size))


@dataclass(frozen=True)
class ScreenerPage:
    count: int
    rows: list[bytes]
    has_next: bool
    etag: str


_COMPARE: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "eq": np.equal, "lt": np.less, "lte": np.less_equal, "gt": np.greater, "gte": np.greater_equal,
}  # fmt: skip


@dataclass
class ScreenerTable:
    version: str
    rows: list[bytes]
    numbers: dict[str, np.ndarray]  # NaN where a value is missing
    texts: dict[str, list[str]]  # lower case
    _order_cache: dict = field(default_factory=dict)

    def select(self, query: ScreenerQuery) -> ScreenerPage:
        ordered = self._ordered(query.ordering)
        order = ordered[self._matching(query)[ordered]]
        start = (query.page - 1) * query.page_size
        page = order[start : start + query.page_size]
        rows = [self.rows[index] for index in page.tolist()]
        return ScreenerPage(len(order), rows, start + len(page) < len(order), f'"{_digest(self.version + query.key)}"')

    def _matching(self, query: ScreenerQuery) -> np.ndarray:
        keep = np.ones(len(self.rows), dtype=bool)
        with np.errstate(invalid="ignore"):  # a missing value (NaN) never matches
            for name, operator, value in query.filters:
                if name in self.texts:
                    keep &= np.array([text == value for text in self.texts[name]], dtype=bool)
                else:
                    keep &= _COMPARE[operator](self.numbers[name], value)
        if query.search:
            needle = query.search.lower()
            keep &= np.array([any(needle in self.texts[name][index] for name in ("symbol", "name", "base_asset"))
                              for index in range(len(self.rows))], dtype=bool)  # fmt: skip
        return keep

    def _ordered(self, ordering: tuple[tuple[str, bool], ...]) -> np.ndarray:
        """Row indexes in this order, missing values last whichever the direction; ties by symbol."""
        if ordering not in self._order_cache:
            keys = [_text_ranks(self.texts["symbol"])]  # np.lexsort: the last key sorts first
            for name, descending in reversed(ordering):
                values = _text_ranks(self.texts[name]) if name in self.texts else self.numbers[name]
                values = -values if descending else values
                keys += [np.where(np.isnan(values), 0.0, values), np.isnan(values)]
            self._order_cache[ordering] = np.lexsort(keys)
        return self._order_cache[ordering]


class ScreenerState:
    """The table of this process, refreshed from the pipeline's state as it changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claim_lock = threading.Lock()
        self._refreshing = False
        self._table: ScreenerTable | None = None
        self._checked_at = -math.inf
        self._symbols: list[selectors.ScreenerSymbol] = []
        self._symbols_digest = ""
        self._symbols_read = (None, -math.inf)  # the version read, when (monotonic)
        self._snapshots_of: tuple = ()  # the symbols digest and snapshots version they were read for
        self._tails: dict[int, bytes] = {}  # each row's end: its snapshots and latest signals, encoded
        self._indicator_numbers: dict[str, np.ndarray] = {}
        self._sparklines: dict[int, list[float]] = {}
        self._one_hour_change: np.ndarray | None = None

    def table_as_is(self) -> ScreenerTable | None:
        """The table without waiting for any refresh; None before the first one."""
        return self._table

    def refresh_due(self) -> bool:
        return time.monotonic() - self._checked_at >= settings.SCREENER_REFRESH_SECONDS

    def refresh_claimed(self) -> bool:
        """True for the one caller that is to run `refresh_claimed_run` now (in a thread): a refresh is due and
        nobody is running one."""
        with self._claim_lock:
            if self._refreshing or not self.refresh_due():
                return False
            self._refreshing = True
            return True

    def refresh_claimed_run(self) -> None:
        try:
            self.table()
        finally:
            self._refreshing = False

    def table(self) -> ScreenerTable:
        with self._lock:
            if self._table is None or self.refresh_due():
                self._refresh()
                self._checked_at = time.monotonic()
            return self._table

    def _refresh(self) -> None:
        versions = _versions()
        symbols_version, read_at = self._symbols_read
        if versions[SYMBOLS_VERSION] != symbols_version or time.monotonic() - read_at >= SYMBOLS_MAX_AGE_SECONDS:
            self._symbols = selectors.screener_symbols()
            self._symbols_digest = _digest(repr(self._symbols))
            self._symbols_read = (versions[SYMBOLS_VERSION], time.monotonic())
        if self._snapshots_of != (self._symbols_digest, versions[SNAPSHOTS_VERSION]):
            self._snapshots_of = (self._symbols_digest, versions[SNAPSHOTS_VERSION])
            self._load_snapshots()
        tickers = selectors.screener_tickers(symbols=[symbol.symbol for symbol in self._symbols])
        newest_ticker = max((ticker.get("event_time") or 0 for ticker in tickers.values()), default=0)
        # Made of what every process reads alike: the same table has the same version (and ETags) in each.
        version = _digest(f"{self._symbols_digest}|{versions[SNAPSHOTS_VERSION]}|{newest_ticker}|{len(tickers)}")
        if self._table is None or self._table.version != version:
            self._table = self._build(tickers, version)

    def _load_snapshots(self) -> None:
        ids = [symbol.id for symbol in self._symbols]
        snapshots = selectors.screener_snapshots(symbol_ids=ids)
        now_ms = int(time.time() * 1000)
        self._sparklines = selectors.screener_sparklines(symbol_ids=ids, now_ms=now_ms - now_ms % MINUTE_MS)
        signals = selectors.screener_signals(symbol_ids=ids)
        self._tails = {
            symbol_id: b',"indicators":'
            + orjson.dumps(snapshots.get(symbol_id, {}))
            + b',"signals":'
            + orjson.dumps(signals.get(symbol_id, []))
            + b"}"
            for symbol_id in ids
        }
        self._indicator_numbers = {
            name: np.array([_number(snapshots.get(symbol_id, {}).get(timeframe, {}).get("values", {}).get(output))
                            for symbol_id in ids], dtype=np.float64)
            for name, (timeframe, output) in indicator_fields().items()
        }  # fmt: skip
        self._one_hour_change = self._indicator_numbers.get("change_24h_1h")

    def _build(self, tickers: dict[str, dict], version: str) -> ScreenerTable:
        heads = [self._head(index, symbol, tickers.get(symbol.symbol)) for index, symbol in enumerate(self._symbols)]
        rows = [orjson.dumps(head)[:-1] + self._tails[symbol.id]
                for head, symbol in zip(heads, self._symbols, strict=True)]  # fmt: skip
        numbers = {name: np.array([_number(head[name]) for head in heads], dtype=np.float64) for name in NUMBER_FIELDS}
        texts = {name: [(head[name] or "").lower() for head in heads] for name in TEXT_FIELDS}
        return ScreenerTable(version, rows, numbers | self._indicator_numbers, texts)

    def _head(self, index: int, symbol: selectors.ScreenerSymbol, ticker: dict | None) -> dict:
        sparkline = self._sparklines.get(symbol.id, [])
        if ticker is not None:
            price, day_open = float(ticker["c"]), float(ticker["o"])
            change = (price / day_open - 1) * 100 if day_open > 0 else None
            quote_volume = float(ticker["q"])
        else:  # no live ticker (the streamer is not running): the stored candles say as much
            price = sparkline[-1] if sparkline else None
            one_hour_change = self._one_hour_change[index] if self._one_hour_change is not None else math.nan
            change = None if math.isnan(one_hour_change) else float(one_hour_change)
            quote_volume = symbol.quote_volume_24h
        return {
            "symbol": symbol.symbol,
            "base_asset": symbol.base_asset,
            "quote_asset": symbol.quote_asset,
            "name": symbol.name,
            "rank": symbol.rank,
            "market_cap": symbol.market_cap,
            "logo_url": symbol.logo_url,
            "price": price,
            "change_24h": change,
            "quote_volume_24h": quote_volume,
            "sparkline_24h": sparkline,
        }


def _versions() -> dict[str, object]:
    """The pipeline's stamps of each part; one never announced yet is stamped now, so that all processes agree."""
    versions = cache.get_many([SNAPSHOTS_VERSION, SYMBOLS_VERSION])
    for key in {SNAPSHOTS_VERSION, SYMBOLS_VERSION} - versions.keys():
        cache.add(key, time.time_ns(), timeout=None)  # the first process to get here stamps it
        versions[key] = cache.get(key)
    return versions


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _text_ranks(texts: list[str]) -> np.ndarray:
    return np.unique(np.array(texts), return_inverse=True)[1].astype(np.float64)


def _number(value: object) -> float:
    return math.nan if value is None else float(value)


screener_state = ScreenerState()
