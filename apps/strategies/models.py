from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from apps.indicators.models import Timeframe
from apps.market.models import Symbol
from apps.strategies.validation import conditions_bound, definition_errors


class Strategy(models.Model):
    """A named set of conditions over the indicator snapshots of one timeframe, market-wide (staff edit them).

    `conditions` is a small tree of leaves combined with "all"/"any" (apps/strategies/validation.py says what it may
    hold); its numbers may refer to `parameters` by name, so that a strategy's thresholds are edited in one place.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    timeframe = models.CharField(max_length=4, choices=Timeframe.choices)
    conditions = models.JSONField(help_text='{"all": [...]}, {"any": [...]} or a leaf with "kind"; see the README.')
    parameters = models.JSONField(default=dict, blank=True, help_text='Name -> number, used as {"param": "name"}.')
    is_active = models.BooleanField(default=True, help_text="Evaluate it after every snapshot update.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "strategies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = definition_errors(conditions=self.conditions, parameters=self.parameters)
        if errors:
            raise ValidationError(errors)

    def bound_conditions(self) -> dict:
        """The conditions with the parameters' values in place of their names."""
        return conditions_bound(self.conditions, self.parameters)


class Signal(models.Model):
    """A strategy's conditions held for a symbol on a candle: written once per (symbol, strategy, timeframe,
    candle), however often that candle is evaluated, with the values the conditions looked at."""

    # Indexed by the unique constraint and signal_newest_per_symbol, which both start with it.
    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, db_index=False, related_name="+")
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="signals")
    timeframe = models.CharField(max_length=4, choices=Timeframe.choices)
    open_time = models.DateTimeField(help_text="Open time of the candle the conditions held on.")
    candle_closed = models.BooleanField(help_text="Whether that candle had closed, or was still forming.")
    values = models.JSONField(help_text="What the conditions looked at: name -> number, or null where missing.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "strategy", "timeframe", "open_time"], name="signal_unique_per_candle"
            )
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="signal_newest"),
            models.Index(fields=["symbol", "-created_at", "-id"], name="signal_newest_per_symbol"),
        ]

    def __str__(self) -> str:
        return f"{self.strategy_id} {self.symbol_id} {self.timeframe} {self.open_time:%Y-%m-%d %H:%M}"
