"""The Telegram bot's alert commands (apps.telegram.alert_commands.AlertCommands): `/alert SYMBOL CONDITION`,
`/alerts`, `/delete ID`, `/mute ID|all`. Telegram parses the command; these do it and word the reply.

Conditions, as typed after the symbol: `> 100000` or `above 100000` (price rises to it), `< 90000` or `below 90000`,
`crosses 95000`, `+5% 15m` or `-3% 1h` (% change within a window), `rsi_1h < 30` (an indicator; `<`, `<=`, `>`,
`>=`), `signal NAME` (a strategy's signal).
"""

import re
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from apps.alerts.models import AlertRule
from apps.alerts.selectors import alert_rule_list
from apps.alerts.services import alert_rule_create, alert_rule_delete, alert_rules_mute
from apps.market.models import Symbol

Kind, Operator = AlertRule.Kind, AlertRule.Operator
_PRICE_WORDS = {">": Kind.PRICE_ABOVE, ">=": Kind.PRICE_ABOVE, "above": Kind.PRICE_ABOVE, "<": Kind.PRICE_BELOW,
                "<=": Kind.PRICE_BELOW, "below": Kind.PRICE_BELOW, "cross": Kind.PRICE_CROSSES,
                "crosses": Kind.PRICE_CROSSES}  # fmt: skip
_OPERATORS = {"<": Operator.LT, "<=": Operator.LTE, ">": Operator.GT, ">=": Operator.GTE}
_CHANGE = re.compile(r"([+-]?[\d.]+)%\s+(\d+)([mh])")
_LIST_LIMIT = 50  # a Telegram message holds 4096 characters


class ConditionUnreadable(ValueError):
    pass


def condition_parsed(text: str) -> dict[str, object]:
    """The rule's condition fields from what was typed after the symbol."""
    words = text.split()
    if len(words) == 2 and words[0].lower() in _PRICE_WORDS:
        return {"kind": _PRICE_WORDS[words[0].lower()], "value": _number(words[1])}
    if change := _CHANGE.fullmatch(text.strip()):
        minutes = int(change.group(2)) * (60 if change.group(3) == "h" else 1)
        return {"kind": Kind.PERCENT_CHANGE, "value": _number(change.group(1)), "window_minutes": minutes}
    if len(words) == 3 and words[1] in _OPERATORS:
        return {"kind": Kind.INDICATOR, "field": words[0].lower(), "operator": _OPERATORS[words[1]],
                "value": _number(words[2])}  # fmt: skip
    if len(words) == 2 and words[0].lower() == "signal":
        return {"kind": Kind.STRATEGY_SIGNAL, "strategy": words[1]}
    raise ConditionUnreadable(f"I cannot read {text!r}: try > 100000, < 90000, crosses 95000, +5% 15m, rsi_1h < 30 "
                              "or signal NAME.")  # fmt: skip


def _number(text: str) -> Decimal:
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ConditionUnreadable(f"{text!r} is not a number.") from None
    # Decimal reads "nan" and "inf", which the rule's checks cannot compare.
    if not number.is_finite():
        raise ConditionUnreadable(f"{text!r} is not a number.")
    return number


class TelegramAlertCommands:
    def create(self, user: AbstractBaseUser, symbol: str, condition_text: str) -> str:
        found = Symbol.objects.filter(symbol=symbol).first()
        if found is None:
            return f"Unknown symbol {symbol}."
        try:
            rule = alert_rule_create(owner=user, symbol=found, telegram=True, **condition_parsed(condition_text))
        except ConditionUnreadable as error:
            return str(error)
        except ValidationError as error:
            return "Cannot create it: " + "; ".join(
                f"{name}: {' '.join(errors)}" for name, errors in error.message_dict.items()
            )
        return f"Alert {rule.id}: {symbol} {rule.describe()}. It will come here."

    def list(self, user: AbstractBaseUser) -> str:
        rules = list(alert_rule_list(owner_id=user.pk)[: _LIST_LIMIT + 1])
        if not rules:
            return "You have no alerts. /alert SYMBOL CONDITION creates one."
        lines = [f"{rule.id}: {_target(rule)} {rule.describe()}{'' if rule.is_active else ' (off)'}" for rule in rules]
        more = ["...and more: the app lists them all."] if len(rules) > _LIST_LIMIT else []
        return "\n".join(["Your alerts:", *lines[:_LIST_LIMIT], *more])

    def delete(self, user: AbstractBaseUser, alert_id: int) -> str:
        if alert_rule_delete(owner_id=user.pk, rule_id=alert_id):
            return f"Alert {alert_id} deleted."
        return f"You have no alert {alert_id}."

    def mute(self, user: AbstractBaseUser, alert_id: int | None) -> str:
        muted = alert_rules_mute(owner_id=user.pk, rule_id=alert_id)
        if alert_id is None:
            return f"All your alerts are off ({muted}). Switch them on again in the app."
        if muted:
            return f"Alert {alert_id} is off. Switch it on again in the app."
        return f"You have no alert {alert_id}."


def _target(rule: AlertRule) -> str:
    if rule.target == AlertRule.Target.SYMBOL:
        return rule.symbol.symbol
    return f"watchlist {rule.watchlist.name}:" if rule.target == AlertRule.Target.WATCHLIST else "any symbol:"
