"""What the screener's table is made of, read in a few queries for every tracked symbol at once."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from apps.indicators.models import Snapshot
from apps.market.intervals import INTERVALS
from apps.market.live import live_kline_get, live_tickers_get
from apps.market.models import CoinMetadata, Symbol
from apps.market.selectors import candles_many
from apps.strategies.selectors import latest_signals

SPARKLINE_HOURS = 24
SIGNALS_PER_ROW = 5


@dataclass(frozen=True)
class ScreenerSymbol:
    id: int
    symbol: str
    base_asset: str
    quote_asset: str
    quote_volume_24h: float | None
    name: str
    rank: int | None
    market_cap: float | None
    logo_url: str


def screener_symbols() -> list[ScreenerSymbol]:
    """The tracked symbols with their CoinMarketCap metadata (name, rank, market cap, logo), where synced."""
    symbols = list(
        Symbol.objects.tracked().values_list("id", "symbol", "base_asset", "quote_asset", "quote_volume_24h")
    )
    metadata = {
        row["base_asset"]: row
        for row in CoinMetadata.objects.filter(base_asset__in={row[2] for row in symbols}).values(
            "base_asset", "name", "rank", "market_cap", "logo_url"
        )
    }
    found = []
    for symbol_id, symbol, base_asset, quote_asset, quote_volume in symbols:
        coin = metadata.get(base_asset, {})
        found.append(
            ScreenerSymbol(
                id=symbol_id,
                symbol=symbol,
                base_asset=base_asset,
                quote_asset=quote_asset,
                quote_volume_24h=None if quote_volume is None else float(quote_volume),
                name=coin.get("name") or "",
                rank=coin.get("rank"),
                market_cap=coin.get("market_cap"),
                logo_url=coin.get("logo_url") or "",
            )
        )
    return found


def screener_snapshots(*, symbol_ids: list[int]) -> dict[int, dict[str, dict]]:
    """Symbol id -> timeframe -> {"open_time", "candle_closed", "values"}, as the snapshots hold them."""
    snapshots: dict[int, dict[str, dict]] = {}
    rows = Snapshot.objects.filter(symbol_id__in=symbol_ids).values_list(
        "symbol_id", "timeframe", "open_time", "candle_closed", "values"
    )
    for symbol_id, timeframe, open_time, candle_closed, values in rows.iterator(chunk_size=2000):
        snapshots.setdefault(symbol_id, {})[timeframe] = {
            "open_time": open_time.isoformat().replace("+00:00", "Z"),
            "candle_closed": candle_closed,
            "values": values,
        }
    return snapshots


def screener_sparklines(*, symbol_ids: list[int], now_ms: int) -> dict[int, list[float]]:
    """The hourly closes of the last 24 hours, the hour still forming last (its latest minute's close)."""
    if not symbol_ids:  # no symbol tracked yet (the first start, before the symbol sync)
        return {}
    hour = INTERVALS["1h"]
    start_ms = hour.bucket_start_ms(now_ms) - (SPARKLINE_HOURS - 1) * hour.ms
    candles = candles_many(symbol_ids=symbol_ids, interval=hour, start_ms=start_ms, end_ms=now_ms + 1)
    return {symbol_id: hours.close.tolist() for symbol_id, hours in candles.items()}


def screener_signals(*, symbol_ids: list[int]) -> dict[int, list[dict]]:
    """Each symbol's newest strategy signals, newest first."""
    return latest_signals(symbol_ids=symbol_ids, limit_per_symbol=SIGNALS_PER_ROW)


def screener_tickers(*, symbols: list[str]) -> dict[str, dict]:
    """The streamer's latest 24h mini tickers (last price, open 24h ago, quote volume), by symbol."""
    return live_tickers_get(symbols)


def symbols_list(*, search: str = "") -> QuerySet[Symbol]:
    """The tracked symbols, by symbol; `search` matches the symbol or its base asset."""
    symbols = Symbol.objects.tracked()
    if search:
        symbols = symbols.filter(Q(symbol__icontains=search) | Q(base_asset__icontains=search))
    return symbols.order_by("symbol")


def with_metadata(symbols: list[Symbol]) -> list[Symbol]:
    """The symbols, each with `coin`: its CoinMetadata, or None before the first sync (one query for all)."""
    coins = {
        coin.base_asset: coin for coin in CoinMetadata.objects.filter(base_asset__in={s.base_asset for s in symbols})
    }
    for symbol in symbols:
        symbol.coin = coins.get(symbol.base_asset)
    return symbols


def symbol_live(*, symbol: str) -> dict:
    """The streamer's latest ticker and forming 1m candle of a symbol (None when it is not streaming)."""
    return {"ticker": live_tickers_get([symbol]).get(symbol), "forming_candle": live_kline_get(symbol)}
