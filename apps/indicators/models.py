from django.db import models

from apps.market.models import Symbol


class Timeframe(models.TextChoices):
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"


class Snapshot(models.Model):
    """The latest indicator values of a symbol on a timeframe: what the screener reads, one row per pair.

    The full computation writes the values of the last closed candle and the state the incremental path goes on
    from; as each minute closes, the incremental path brings the values up to date with the candle still forming.
    A small table with a plain id (the admin cannot show composite keys), unique per (symbol, timeframe).
    """

    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="+")
    timeframe = models.CharField(max_length=4, choices=Timeframe.choices)
    open_time = models.DateTimeField(help_text="Open time of the candle the values are for.")
    candle_closed = models.BooleanField(default=True, help_text="Whether that candle had closed.")
    values = models.JSONField(help_text="Output column -> number, or null while history is too short.")
    computed_at = models.DateTimeField(auto_now=True)
    state_open_time = models.DateTimeField(null=True, help_text="Open time of the closed candle the state is for.")
    state = models.JSONField(null=True, help_text="What each indicator carries over to the next candle.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["symbol", "timeframe"], name="snapshot_unique_per_timeframe")]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.timeframe} {self.open_time:%Y-%m-%d %H:%M}"


class IndicatorHistory(models.Model):
    """The values per closed candle, for charts and strategies (a hypertable on TimescaleDB, like candles)."""

    pk = models.CompositePrimaryKey("symbol", "timeframe", "open_time")
    open_time = models.DateTimeField()
    symbol = models.ForeignKey(Symbol, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                               related_name="+")  # fmt: skip
    timeframe = models.CharField(max_length=4, choices=Timeframe.choices)
    values = models.JSONField()

    class Meta:
        verbose_name_plural = "indicator history"

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.timeframe} {self.open_time:%Y-%m-%d %H:%M}"
