from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils import timezone

from apps.alerts.destinations import webhook_url_refusal
from apps.market.models import Symbol
from apps.strategies.models import Strategy

MAX_WINDOW_MINUTES = 1440
MAX_PAIR_WINDOW = 1000  # the z-score is taken over the last 1000 candles at most
CONDITION_FIELDS = (
    "value",
    "window_minutes",
    "field",
    "operator",
    "strategy",
    "pair_symbol",
    "pair_timeframe",
    "pair_window",
)


class Watchlist(models.Model):
    """A user's named list of symbols: what their screener views and alerts can be limited to."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists")
    name = models.CharField(max_length=100)
    symbols = models.ManyToManyField(Symbol, related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="watchlist_name_unique_per_owner")]

    def __str__(self) -> str:
        return self.name


class AlertRule(models.Model):
    """What a user wants to hear about: a condition on one symbol, a watchlist or every symbol, and where to say it.

    Price conditions fire when a ticker crosses the value (from the previous ticker to this one); a % change fires
    when the change over the window crosses the value; an indicator threshold fires whenever a snapshot update
    finds it met; a strategy's signal fires with each new signal. A rule fires at most once per cooldown (on every
    symbol it covers together); a one-time rule switches itself off when it fires.
    """

    class Target(models.TextChoices):
        SYMBOL = "symbol"
        WATCHLIST = "watchlist"
        ALL = "all", "all symbols"

    class Kind(models.TextChoices):
        PRICE_ABOVE = "price_above", "price rises to or above"
        PRICE_BELOW = "price_below", "price falls to or below"
        PRICE_CROSSES = "price_crosses", "price crosses"
        PERCENT_CHANGE = "percent_change", "% change within a window"
        INDICATOR = "indicator", "indicator threshold"
        STRATEGY_SIGNAL = "strategy_signal", "strategy signal"
        PAIR_ZSCORE = "pair_zscore", "pairs spread z-score crosses"

    class Operator(models.TextChoices):
        LT = "lt", "<"
        LTE = "lte", "<="
        GT = "gt", ">"
        GTE = "gte", ">="

    PRICE_KINDS = (Kind.PRICE_ABOVE, Kind.PRICE_BELOW, Kind.PRICE_CROSSES)
    # What each kind of condition reads; the others stay empty.
    KIND_FIELDS = {
        **{kind: {"value"} for kind in PRICE_KINDS},
        Kind.PERCENT_CHANGE: {"value", "window_minutes"},
        Kind.INDICATOR: {"field", "operator", "value"},
        Kind.STRATEGY_SIGNAL: {"strategy"},
        Kind.PAIR_ZSCORE: {"value", "pair_symbol", "pair_timeframe", "pair_window"},
    }

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=100, blank=True)
    target = models.CharField(max_length=16, choices=Target.choices, default=Target.SYMBOL)
    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(
        max_digits=30, decimal_places=10, null=True, blank=True,
        help_text="The price; the % change (negative: a fall); the indicator's threshold.",
    )  # fmt: skip
    window_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_MINUTES)],
        help_text="% change: over how many minutes.",
    )  # fmt: skip
    field = models.CharField(max_length=64, blank=True, help_text="Indicator: a screener field, e.g. rsi_1h.")
    operator = models.CharField(max_length=3, choices=Operator.choices, blank=True)
    strategy = models.CharField(max_length=100, blank=True, help_text="Strategy signal: the strategy's name.")
    pair_symbol = models.ForeignKey(
        Symbol, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        help_text="Pairs z-score: the other leg (the rule's symbol is the first), as in /analytics/pairs/.",
    )  # fmt: skip
    pair_timeframe = models.CharField(max_length=4, blank=True, help_text="Pairs z-score: the candles' interval.")
    pair_window = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(2), MaxValueValidator(MAX_PAIR_WINDOW)],
        help_text="Pairs z-score: its window, in candles.",
    )  # fmt: skip
    cooldown_seconds = models.PositiveIntegerField(default=300, help_text="Fires at most once per this many seconds.")
    one_time = models.BooleanField(default=False, help_text="Switch the rule off once it fired.")
    is_active = models.BooleanField(default=True)
    telegram = models.BooleanField(default=False, help_text="Deliver to the owner's linked Telegram chats.")
    websocket = models.BooleanField(default=True, help_text="Deliver to the owner's open /ws/alerts/ connections.")
    webhook_url = models.URLField(
        max_length=500, blank=True, validators=[URLValidator(schemes=["http", "https"])],
        help_text="POST each event here as JSON.",
    )  # fmt: skip
    last_fired_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} ({self.pk})"

    def clean(self) -> None:
        errors = {**self._target_errors(), **self._condition_errors(), **self._webhook_errors(), **self._limit_errors()}
        if not (self.telegram or self.websocket or self.webhook_url):
            errors["webhook_url"] = "Choose at least one channel: telegram, websocket or a webhook URL."
        if errors:
            raise ValidationError(errors)

    def _webhook_errors(self) -> dict[str, str]:
        if not self.webhook_url:
            return {}
        try:
            self._meta.get_field("webhook_url").run_validators(self.webhook_url)
        except ValidationError:
            return {}  # not a URL: clean_fields says so
        refusal = webhook_url_refusal(self.webhook_url)
        return {"webhook_url": refusal} if refusal else {}

    def _limit_errors(self) -> dict[str, str]:
        """Each user's share: ALERTS_MAX_RULES_PER_USER rules, ALERTS_MAX_WEBHOOKS_PER_USER webhook URLs."""
        others = AlertRule.objects.filter(owner_id=self.owner_id).exclude(pk=self.pk)
        if self.pk is None and others.count() >= settings.ALERTS_MAX_RULES_PER_USER:
            return {NON_FIELD_ERRORS: f"You have {settings.ALERTS_MAX_RULES_PER_USER} alerts, the most allowed."}
        webhooks = set(others.exclude(webhook_url="").values_list("webhook_url", flat=True).distinct())
        if self.webhook_url and len(webhooks | {self.webhook_url}) > settings.ALERTS_MAX_WEBHOOKS_PER_USER:
            return {"webhook_url": f"Your alerts post to {len(webhooks)} webhook URLs, the most allowed: use one of "
                                   "them."}  # fmt: skip
        return {}

    def _target_errors(self) -> dict[str, str]:
        if self.target == self.Target.SYMBOL and self.symbol_id is None:
            return {"symbol": "A symbol rule needs its symbol."}
        if self.target == self.Target.WATCHLIST:
            if self.watchlist_id is None:
                return {"watchlist": "A watchlist rule needs its watchlist."}
            if self.watchlist.owner_id != self.owner_id:
                return {"watchlist": "Not one of your watchlists."}
        if self.target != self.Target.SYMBOL and self.symbol_id is not None:
            return {"symbol": "Only a symbol rule names a symbol."}
        if self.target != self.Target.WATCHLIST and self.watchlist_id is not None:
            return {"watchlist": "Only a watchlist rule names a watchlist."}
        return {}

    def _condition_errors(self) -> dict[str, str]:
        from apps.screener.fields import indicator_fields

        used = self.KIND_FIELDS.get(self.kind, set())
        given = {name for name in CONDITION_FIELDS if getattr(self, name) not in (None, "")}
        errors = {name: f"Required for {self.kind}." for name in used - given}
        errors |= {name: f"Not used by {self.kind}." for name in given - used}
        if errors:
            return errors
        if self.kind in self.PRICE_KINDS and self.value <= 0:
            return {"value": "A price is above zero."}
        if self.kind == self.Kind.PERCENT_CHANGE and self.value == 0:
            return {"value": "A change of 0% never happens: positive for a rise, negative for a fall."}
        if self.kind == self.Kind.INDICATOR and self.field not in indicator_fields():
            return {"field": f"Unknown field {self.field!r}: see /api/v1/screener/fields/."}
        if self.kind == self.Kind.STRATEGY_SIGNAL and not Strategy.objects.filter(name=self.strategy).exists():
            return {"strategy": f"No strategy is named {self.strategy!r}."}
        if self.kind == self.Kind.PAIR_ZSCORE:
            return self._pair_errors()
        return {}

    def _pair_errors(self) -> dict[str, str]:
        if self.target != self.Target.SYMBOL:
            return {"target": "A pairs rule is on one symbol, the pair's first leg."}
        if self.pair_symbol_id == self.symbol_id:
            return {"pair_symbol": "The other leg of the pair, not the symbol itself."}
        if self.pair_timeframe not in settings.INDICATORS_TIMEFRAMES:
            return {"pair_timeframe": f"One of {', '.join(settings.INDICATORS_TIMEFRAMES)}."}
        return {}

    def describe(self) -> str:
        """The condition in words: `price rises to or above 100000`, `rsi_1h < 30`."""
        match self.kind:
            case self.Kind.PERCENT_CHANGE:
                direction = "rises" if self.value > 0 else "falls"
                return f"price {direction} {abs(self.value).normalize():f}% within {self.window_minutes} min"
            case self.Kind.INDICATOR:
                return f"{self.field} {self.get_operator_display()} {self.value.normalize():f}"
            case self.Kind.STRATEGY_SIGNAL:
                return f"strategy {self.strategy} signals"
            case self.Kind.PAIR_ZSCORE:
                return (f"z-score of the spread against {self.pair_symbol} ({self.pair_timeframe}, {self.pair_window} "
                        f"candles) crosses {self.value.normalize():f}")  # fmt: skip
        return f"{self.get_kind_display()} {self.value.normalize():f}"


class AlertEvent(models.Model):
    """One firing of a rule on a symbol, and what happened; its deliveries say where it went."""

    rule = models.ForeignKey(AlertRule, on_delete=models.SET_NULL, null=True, related_name="events")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_events")
    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=500)
    values = models.JSONField(default=dict, help_text="The numbers that made it fire.")
    # The rule, the symbol and what triggered it (a ticker's time, a snapshot, a signal): the same trigger seen twice
    # (a retried evaluation) never makes a second event.
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="alert_event_user_recent")]

    def __str__(self) -> str:
        return self.message


class AlertDelivery(models.Model):
    """An event on one channel and destination (a Telegram chat, a webhook URL), decided when the rule fired. A
    sender claims it with a conditional UPDATE before sending (pending, or sending for longer than a lease: its
    sender died), so that no retry or redelivered task sends it twice."""

    class Channel(models.TextChoices):
        TELEGRAM = "telegram"
        WEBSOCKET = "websocket"
        WEBHOOK = "webhook"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    destination = models.CharField(max_length=500, blank=True, help_text="The chat id or the webhook URL.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["channel"]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "channel", "destination"], name="alert_delivery_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.channel}: {self.status}"
