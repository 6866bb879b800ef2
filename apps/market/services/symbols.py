import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.market.binance.rest import BinanceRest
from apps.market.models import Symbol

logger = logging.getLogger(__name__)

FINEST_STEP = Decimal("0.00000001")  # Binance's prices and quantities carry at most 8 decimals
SYMBOL_NAME = re.compile(r"[A-Z0-9]+")  # ASCII: str.isalnum and str.upper take any script


class InvalidSymbolEntry(ValueError):
    pass


def _filter_value(entry: dict[str, Any], filter_type: str, key: str) -> Decimal:
    for exchange_filter in entry.get("filters") or []:
        if isinstance(exchange_filter, dict) and exchange_filter.get("filterType") == filter_type:
            try:
                return Decimal(exchange_filter[key])
            except (KeyError, TypeError, InvalidOperation):
                break
    raise InvalidSymbolEntry(f"{entry.get('symbol')!r}: no valid {filter_type}.{key}")


def _is_spot(entry: dict[str, Any]) -> bool:
    permission_sets = entry.get("permissionSets") or [entry.get("permissions") or []]
    return entry.get("isSpotTradingAllowed") is True or any("SPOT" in group for group in permission_sets)


def _symbol_fields(entry: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise InvalidSymbolEntry(f"symbol entry is not an object: {entry!r}")
    for key in ("symbol", "baseAsset", "quoteAsset", "status"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise InvalidSymbolEntry(f"{entry.get('symbol')!r}: missing {key}")
    if entry["status"] not in Symbol.Status.values:
        raise InvalidSymbolEntry(f"{entry['symbol']}: unknown status {entry['status']!r}")
    return {
        "base_asset": entry["baseAsset"],
        "quote_asset": entry["quoteAsset"],
        "status": entry["status"],
        "tick_size": _filter_value(entry, "PRICE_FILTER", "tickSize"),
        "step_size": _filter_value(entry, "LOT_SIZE", "stepSize"),
    }


def symbols_sync(*, rest: BinanceRest) -> list[Symbol]:
    """Bring the symbol table in line with exchangeInfo: spot pairs on the configured quote assets.

    New symbols start active; the operator's is_active choice is never overwritten. Symbols that vanished from
    the exchange are marked DELISTED, never deleted (their candles stay).
    """
    quote_assets = set(settings.MARKET_QUOTE_ASSETS)
    listed: dict[str, dict[str, Any]] = {}
    for entry in rest.exchange_info().get("symbols", []):
        try:
            fields = _symbol_fields(entry)
        except InvalidSymbolEntry as error:
            logger.warning("skipped exchangeInfo entry: %s", error)
            continue
        if fields["quote_asset"] in quote_assets and _is_spot(entry):
            listed[entry["symbol"]] = fields
    with transaction.atomic():
        synced = [Symbol.objects.update_or_create(symbol=name, defaults=fields)[0] for name, fields in listed.items()]
        Symbol.objects.exclude(symbol__in=listed).filter(quote_asset__in=quote_assets).update(
            status=Symbol.Status.DELISTED
        )
    logger.info("synced %d symbols from exchangeInfo", len(synced))
    return synced


def symbol_create_unlisted(*, name: str) -> Symbol:
    """A symbol the exchange has not been asked about, for imported candles: as a new symbol from the sync would be
    (active, trading) with the finest tick and step Binance uses, its assets split at a configured quote asset. The
    next `symbols_sync` brings in the exchange's own fields, or marks it DELISTED if the exchange has no such pair."""
    quote = next((quote for quote in settings.MARKET_QUOTE_ASSETS if name.endswith(quote) and name != quote), None)
    if not SYMBOL_NAME.fullmatch(name) or quote is None:
        raise InvalidSymbolEntry(
            f"{name!r}: a symbol is capitals and digits ending in a quote asset of MARKET_QUOTE_ASSETS "
            f"({', '.join(settings.MARKET_QUOTE_ASSETS)})"
        )
    return Symbol.objects.create(
        symbol=name,
        base_asset=name.removesuffix(quote),
        quote_asset=quote,
        status=Symbol.Status.TRADING,
        tick_size=FINEST_STEP,
        step_size=FINEST_STEP,
    )


def symbols_rank_by_volume(*, rest: BinanceRest) -> int:
    """Record each symbol's 24h quote volume: the first backfill serves the most liquid symbols first."""
    volumes = {}
    for ticker in rest.tickers_24h():
        try:
            volumes[ticker["symbol"]] = Decimal(ticker["quoteVolume"])
        except (KeyError, TypeError, InvalidOperation):
            logger.warning("skipped malformed 24h ticker: %r", ticker)
    symbols = list(Symbol.objects.filter(symbol__in=volumes))
    for symbol in symbols:
        symbol.quote_volume_24h = volumes[symbol.symbol]
    Symbol.objects.bulk_update(symbols, ["quote_volume_24h"])
    return len(symbols)
