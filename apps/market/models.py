from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from apps.market.candle_values import SCALE_OF, units_decimal


class SymbolQuerySet(models.QuerySet):
    def tracked(self) -> "SymbolQuerySet":
        """Symbols the service keeps current: switched on by the operator and trading on the exchange."""
        return self.filter(is_active=True, status=Symbol.Status.TRADING)


class Symbol(models.Model):
    class Status(models.TextChoices):
        TRADING = "TRADING"
        END_OF_DAY = "END_OF_DAY"
        HALT = "HALT"
        BREAK = "BREAK"
        CANCEL_ONLY = "CANCEL_ONLY"
        DELISTED = "DELISTED"  # ours: gone from exchangeInfo

    # 4 bytes in every candle row; Binance lists a few thousand symbols in all.
    id = models.AutoField(primary_key=True)
    symbol = models.CharField(max_length=32, unique=True)
    base_asset = models.CharField(max_length=16)
    quote_asset = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices)
    tick_size = models.DecimalField(max_digits=24, decimal_places=8)
    step_size = models.DecimalField(max_digits=24, decimal_places=8)
    is_active = models.BooleanField(default=True, help_text="Track this symbol: stream, backfill and analyse it.")
    is_derived = models.BooleanField(
        default=False, help_text="Synthetic series derived from recorded data (offline demo only), not a real market."
    )
    listed_at = models.DateTimeField(null=True, blank=True, help_text="Open time of the exchange's first candle.")
    quote_volume_24h = models.DecimalField(max_digits=32, decimal_places=8, null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    objects = SymbolQuerySet.as_manager()

    class Meta:
        ordering = ["symbol"]
        indexes = [models.Index(fields=["quote_asset", "is_active"])]

    def __str__(self) -> str:
        return self.symbol

    def history_start(self, since: datetime) -> datetime:
        """Where this symbol's history can begin: candles before its listing do not exist."""
        return max(since, self.listed_at) if self.listed_at else since


PRICE = {"max_digits": 28, "decimal_places": 8}
# No database foreign key: PostgreSQL would check every one of millions of inserted rows against the symbol table at
# commit (a third of the writer's time, measured). Symbols are never deleted (a vanished one is DELISTED; the admin
# allows no delete), and candles are only written for Symbol rows.
CANDLE_SYMBOL = {"on_delete": models.DO_NOTHING, "db_constraint": False, "db_index": False, "related_name": "+"}


class Candle(models.Model):
    """One closed 1-minute candle. Narrow on purpose: 2 years x 500 symbols is about 525 million rows.

    The composite primary key (symbol, open_time) is the only index PostgreSQL needs for per-symbol time ranges;
    a BRIN index on open_time (migration 0002) serves market-wide time scans for a few pages of disk.

    Values are exact integers: a price is `open` units of 10**-price_scale, and so on. The scales follow the symbol's
    grid (its tick and step sizes, Binance's at most 8 places), so that consecutive values differ by small integers,
    which TimescaleDB's delta encodings compress several times better than NUMERIC; a value finer than the grid
    (the grid changed) gets its row a finer scale, never a rounding. The candle writer computes them.
    """

    pk = models.CompositePrimaryKey("symbol", "open_time")
    open_time = models.DateTimeField()  # first, so that the 8-byte column needs no alignment padding
    symbol = models.ForeignKey(Symbol, **CANDLE_SYMBOL)
    open = models.BigIntegerField()
    high = models.BigIntegerField()
    low = models.BigIntegerField()
    close = models.BigIntegerField()
    volume = models.BigIntegerField()
    quote_volume = models.BigIntegerField()
    trades = models.IntegerField()
    taker_buy_volume = models.BigIntegerField()
    taker_buy_quote_volume = models.BigIntegerField()
    price_scale = models.SmallIntegerField(help_text="Decimal places of open, high, low and close.")
    volume_scale = models.SmallIntegerField(help_text="Decimal places of volume and taker buy volume.")
    quote_scale = models.SmallIntegerField(help_text="Decimal places of the quote volumes.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(low__lte=models.F("high")), name="candle_low_lte_high"),
            models.CheckConstraint(condition=models.Q(volume__gte=0), name="candle_volume_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.open_time:%Y-%m-%d %H:%M}"

    def price(self, field: str) -> Decimal:
        return units_decimal(getattr(self, field), self.price_scale)

    def decimals(self) -> dict[str, Decimal | int]:
        """Every value as the exchange gave it: the decimals with 8 places, the trade count."""
        values = {
            column: units_decimal(getattr(self, column), getattr(self, scale)) for column, scale in SCALE_OF.items()
        }
        return {**values, "trades": self.trades}


class HourlyCandle(models.Model):
    """The hourly roll-up of Candle, kept by the candle writer on PostgreSQL in the same transaction.

    Every interval from 1h up (and Binance's origins: the epoch, Mondays, month starts) is made of whole UTC hours,
    so the klines API reads 60 times fewer rows for them, with results identical to rolling up the minutes.
    """

    pk = models.CompositePrimaryKey("symbol", "open_time")
    open_time = models.DateTimeField()
    symbol = models.ForeignKey(Symbol, **CANDLE_SYMBOL)
    open = models.DecimalField(**PRICE)
    high = models.DecimalField(**PRICE)
    low = models.DecimalField(**PRICE)
    close = models.DecimalField(**PRICE)
    volume = models.DecimalField(max_digits=32, decimal_places=8)
    quote_volume = models.DecimalField(max_digits=32, decimal_places=8)
    trades = models.BigIntegerField()
    taker_buy_volume = models.DecimalField(max_digits=32, decimal_places=8)
    taker_buy_quote_volume = models.DecimalField(max_digits=32, decimal_places=8)

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.open_time:%Y-%m-%d %H}h"


class ExchangeGap(models.Model):
    """A range of minutes for which the exchange itself has no candles (maintenance, halts): never refetched."""

    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="exchange_gaps")
    start = models.DateTimeField()
    end = models.DateTimeField(help_text="Exclusive.")
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["symbol", "start"], name="exchange_gap_unique_start"),
            models.CheckConstraint(condition=models.Q(start__lt=models.F("end")), name="exchange_gap_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"


class CoinMetadata(models.Model):
    """CoinMarketCap's facts about a base asset (shared by all its pairs), kept by the metadata sync."""

    base_asset = models.CharField(max_length=16, unique=True)
    cmc_id = models.PositiveIntegerField(null=True, blank=True)
    cmc_symbol = models.CharField(
        max_length=32, blank=True, help_text="CMC's ticker: the base asset's, or its override's (1000SATS: SATS)."
    )
    name = models.CharField(max_length=200, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    market_cap = models.FloatField(null=True, blank=True, help_text="USD")
    circulating_supply = models.FloatField(null=True, blank=True)
    logo_url = models.URLField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "coin metadata"
        ordering = ["base_asset"]

    def __str__(self) -> str:
        return self.base_asset


class CmcSymbolOverride(models.Model):
    """Where Binance names an asset differently from CoinMarketCap (1000SATS, a thousand SATS; BTTC for BTT)."""

    exchange_asset = models.CharField(
        max_length=16,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9]+$", "Binance's base asset: capital letters and digits.")],
    )
    cmc_symbol = models.CharField(
        max_length=32,
        validators=[RegexValidator(r"^[A-Za-z0-9.$_-]+$", "CMC's ticker: letters, digits and . $ _ - only.")],
    )

    class Meta:
        verbose_name = "CMC symbol override"
        ordering = ["exchange_asset"]

    def __str__(self) -> str:
        return f"{self.exchange_asset} -> {self.cmc_symbol}"

    def clean(self) -> None:
        if self.exchange_asset and self.exchange_asset == self.cmc_symbol:
            raise ValidationError({"cmc_symbol": "Same as the exchange asset: no override is needed."})


class OperationRun(models.Model):
    """An operation on symbols started from the admin, run as a Celery task that records its outcome here."""

    class Kind(models.TextChoices):
        BACKFILL = "backfill", "Backfill"
        GAP_FILL = "gap_fill", "Gap fill"
        METADATA_SYNC = "metadata_sync", "Metadata sync"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    symbols = models.JSONField(default=list, help_text="Symbol names.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    message = models.TextField(blank=True)
    task_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
