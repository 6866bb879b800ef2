"""CoinMarketCap's metadata of base assets: name, rank, market cap, circulating supply and logo (CoinMetadata).

Binance names assets by ticker, CMC by id: each base asset goes to its CMC ticker (its CmcSymbolOverride, or its
own name), the ticker to the best-ranked active coin of that ticker in CMC's id map, and that coin's latest quotes
(and its logo, once per coin) are fetched in chunks of CMC_QUOTES_CHUNK. A chunk that fails keeps its assets'
previous values and the sync goes on; an account error (key, plan, credits) ends it, keeping what was fetched.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.market.coinmarketcap import CmcAccountError, CmcError, CoinMarketCap
from apps.market.models import CmcSymbolOverride, CoinMetadata, Symbol
from apps.market.signals import metadata_synced

logger = logging.getLogger(__name__)

LOCK = "market:metadata-sync"
LOCK_SECONDS = 30 * 60
FIELDS = ("cmc_id", "cmc_symbol", "name", "rank", "market_cap", "circulating_supply", "logo_url")


@dataclass
class MetadataSyncReport:
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # base asset: why
    failed: dict[str, str] = field(default_factory=dict)  # base asset: the error
    off: bool = False
    skipped_locked: bool = False

    def __str__(self) -> str:
        if self.off:
            return "metadata sync is off: CMC_API_KEY is not set"
        if self.skipped_locked:
            return "skipped: a metadata sync is running elsewhere"
        parts = [f"{len(self.updated)} updated", f"{len(self.unchanged)} unchanged"]
        for label, reasons in (("skipped", self.skipped), ("failed", self.failed)):
            if reasons:
                parts.append(f"{len(reasons)} {label} ({_grouped(reasons)})")
        return ", ".join(parts)


def _grouped(reasons: dict[str, str]) -> str:
    """`SOL, XRP: HTTP 500 ...; DOGE: ...`: a failed chunk's assets share one error."""
    assets_by_reason: dict[str, list[str]] = defaultdict(list)
    for asset, reason in reasons.items():
        assets_by_reason[reason].append(asset)
    return "; ".join(f"{', '.join(assets)}: {reason}" for reason, assets in assets_by_reason.items())


def coin_metadata_sync(*, base_assets: Iterable[str] | None = None) -> MetadataSyncReport:
    """Sync the metadata of `base_assets` (default: those of the tracked symbols); one sync at a time.

    Sends `metadata_synced` with the base assets whose metadata changed, once they are stored. Raises CmcError when
    CMC's id map cannot be read (nothing is changed then).
    """
    if not settings.CMC_API_KEY:
        logger.info("metadata sync is off: CMC_API_KEY is not set")
        return MetadataSyncReport(off=True)
    if base_assets is None:
        base_assets = Symbol.objects.tracked().values_list("base_asset", flat=True)
    if not cache.add(LOCK, 1, LOCK_SECONDS):
        logger.info("metadata sync skipped: another one is running")
        return MetadataSyncReport(skipped_locked=True)
    try:
        with CoinMarketCap() as cmc:
            report = _sync(cmc, sorted(set(base_assets)))
    finally:
        cache.delete(LOCK)
    logger.info("metadata sync: %s", report)
    return report


def _sync(cmc: CoinMarketCap, base_assets: list[str]) -> MetadataSyncReport:
    report = MetadataSyncReport()
    tickers = _tickers(base_assets, report)
    if not tickers:
        return report
    coins = _best_ranked(cmc.id_map())
    assets_by_id: dict[int, list[str]] = defaultdict(list)
    for asset, ticker in tickers.items():
        if ticker in coins:
            assets_by_id[coins[ticker]["id"]].append(asset)
        else:
            report.skipped[asset] = f"no active coin {ticker} on CoinMarketCap"
            logger.info("metadata: %s skipped, CoinMarketCap lists no active coin %s", asset, ticker)
    stored = CoinMetadata.objects.in_bulk(tickers, field_name="base_asset")
    fetched = _fetch(cmc, assets_by_id, stored, report)
    _store(fetched, stored, report)
    return report


def _tickers(base_assets: list[str], report: MetadataSyncReport) -> dict[str, str]:
    """Each base asset's CMC ticker; non-ASCII ones (Binance lists a few) are skipped."""
    overrides = dict(
        CmcSymbolOverride.objects.filter(exchange_asset__in=base_assets).values_list("exchange_asset", "cmc_symbol")
    )
    tickers = {}
    for asset in base_assets:
        if asset.isascii():
            tickers[asset] = overrides.get(asset, asset)
        else:
            report.skipped[asset] = "not an ASCII ticker"
            logger.info("metadata: %r skipped, not an ASCII ticker", asset)
    return tickers


def _rank_key(coin: dict[str, Any]) -> tuple[bool, int, int]:
    rank = coin.get("rank")
    return (not isinstance(rank, int), rank if isinstance(rank, int) else 0, coin["id"])


def _best_ranked(coins: list[Any]) -> dict[str, dict[str, Any]]:
    """Each ticker's best-ranked coin: obscure coins share popular tickers (Ethercoin is ETC too)."""
    best: dict[str, dict[str, Any]] = {}
    for coin in coins:
        if not (isinstance(coin, dict) and isinstance(coin.get("id"), int) and isinstance(coin.get("symbol"), str)):
            logger.warning("metadata: malformed id map entry %r", coin)
            continue
        current = best.get(coin["symbol"])
        if current is None or _rank_key(coin) < _rank_key(current):
            best[coin["symbol"]] = coin
    return best


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _fetch(
    cmc: CoinMarketCap, assets_by_id: dict[int, list[str]], stored: dict[str, CoinMetadata], report: MetadataSyncReport
) -> dict[str, dict[str, Any]]:
    """The new field values of each asset whose chunk was fetched."""
    known_logos = {row.cmc_id: row.logo_url for row in stored.values() if row.logo_url}
    fetched: dict[str, dict[str, Any]] = {}
    chunks = _chunks(sorted(assets_by_id), settings.CMC_QUOTES_CHUNK)
    for number, chunk in enumerate(chunks):
        try:
            quotes = cmc.quotes_latest(ids=chunk)
            missing_logos = [coin_id for coin_id in chunk if coin_id not in known_logos]
            logos = _logos(cmc.info(ids=missing_logos)) if missing_logos else {}
        except CmcAccountError as error:
            logger.error("metadata sync stopped: %s", error)
            for rest in chunks[number:]:
                report.failed |= {asset: str(error) for coin_id in rest for asset in assets_by_id[coin_id]}
            break
        except CmcError as error:
            logger.warning("metadata: chunk of %d coins failed, previous values kept: %s", len(chunk), error)
            report.failed |= {asset: str(error) for coin_id in chunk for asset in assets_by_id[coin_id]}
            continue
        for coin_id in chunk:
            fields = _fields(quotes.get(str(coin_id)), logos.get(coin_id) or known_logos.get(coin_id, ""))
            for asset in assets_by_id[coin_id]:
                if fields is None:
                    report.skipped[asset] = f"no valid quote for CMC id {coin_id}"
                    logger.warning("metadata: %s skipped, no valid quote for CMC id %d", asset, coin_id)
                else:
                    fetched[asset] = fields
    return fetched


def _logos(info: dict[str, Any]) -> dict[int, str]:
    return {
        coin["id"]: coin["logo"]
        for coin in info.values()
        if isinstance(coin, dict) and isinstance(coin.get("id"), int) and isinstance(coin.get("logo"), str)
    }


def _fields(quote: Any, logo_url: str) -> dict[str, Any] | None:
    try:
        rank, supply = quote.get("cmc_rank"), quote.get("circulating_supply")
        market_cap = quote["quote"]["USD"]["market_cap"]
        return {
            "cmc_id": int(quote["id"]),
            "cmc_symbol": str(quote["symbol"]),
            "name": str(quote["name"])[:200],
            "rank": rank if isinstance(rank, int) and rank > 0 else None,
            # CMC says 0 when it does not know the circulating supply: unknown, not worthless.
            "market_cap": float(market_cap) if market_cap else None,
            "circulating_supply": float(supply) if supply is not None else None,
            "logo_url": logo_url,
        }
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _store(fetched: dict[str, dict[str, Any]], stored: dict[str, CoinMetadata], report: MetadataSyncReport) -> None:
    for asset, fields in sorted(fetched.items()):
        row = stored.get(asset)
        changed = row is None or any(getattr(row, name) != value for name, value in fields.items())
        (report.updated if changed else report.unchanged).append(asset)
    now = timezone.now()
    CoinMetadata.objects.bulk_create(
        [CoinMetadata(base_asset=asset, synced_at=now, **fields) for asset, fields in fetched.items()],
        update_conflicts=True,
        unique_fields=["base_asset"],
        update_fields=[*FIELDS, "synced_at"],
    )
    if report.updated:
        transaction.on_commit(lambda: _announce(report.updated))


def _announce(base_assets: list[str]) -> None:
    # Stored is stored: a receiver's failure is its own to catch up on at the next sync.
    for receiver, outcome in metadata_synced.send_robust(sender=CoinMetadata, base_assets=base_assets):
        if isinstance(outcome, Exception):
            logger.error("%s failed on metadata of %d assets: %r", receiver.__qualname__, len(base_assets), outcome)
