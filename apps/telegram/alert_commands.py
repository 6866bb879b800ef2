"""The bot's alert commands (`/alert`, `/alerts`, `/delete`, `/mute` and the buttons under alert messages) are
carried out by the alerts app, which sits above this one: it registers its implementation in its
`AppConfig.ready` with `alert_commands_register`. Telegram parses the command and sends the reply; the alerts
engine does the work and words the answer. Until something is registered, each command says so.
"""

from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser

from apps.telegram.client import Button

_MUTE = "mute"
_DELETE = "delete"


class AlertCommands(Protocol):
    def create(self, user: AbstractBaseUser, symbol: str, condition_text: str) -> str:
        """`/alert BTCUSDT > 100000`: symbol "BTCUSDT" (upper-cased), condition_text "> 100000" (as typed)."""

    def list(self, user: AbstractBaseUser) -> str:
        """`/alerts`: the user's alerts, with the ids the other commands take."""

    def delete(self, user: AbstractBaseUser, alert_id: int) -> str:
        """`/delete 12`, or the Delete button under alert 12's message."""

    def mute(self, user: AbstractBaseUser, alert_id: int | None) -> str:
        """`/mute 12` or the Mute button (one alert); `/mute all` (None: every alert of the user)."""


class AlertsUnavailable:
    REPLY = "Alerts are not available yet."

    def create(self, user: AbstractBaseUser, symbol: str, condition_text: str) -> str:
        return self.REPLY

    def list(self, user: AbstractBaseUser) -> str:
        return self.REPLY

    def delete(self, user: AbstractBaseUser, alert_id: int) -> str:
        return self.REPLY

    def mute(self, user: AbstractBaseUser, alert_id: int | None) -> str:
        return self.REPLY


_registered: AlertCommands = AlertsUnavailable()


def alert_commands_register(commands: AlertCommands) -> None:
    global _registered
    _registered = commands


def alert_commands() -> AlertCommands:
    return _registered


def alert_buttons(alert_id: int) -> list[list[Button]]:
    """The buttons under an alert's message (`telegram_send(..., buttons=alert_buttons(rule.id))`): pressing one
    calls `mute` or `delete` of the registered AlertCommands with that id."""
    return [[("Mute", f"{_MUTE}:{alert_id}"), ("Delete", f"{_DELETE}:{alert_id}")]]


def alert_button_parse(data: str) -> tuple[str, int] | None:
    """("mute" or "delete", alert id) from a button's callback data; None for anything else."""
    action, _, alert_id = data.partition(":")
    if action in (_MUTE, _DELETE) and alert_id.isascii() and alert_id.isdigit():
        return action, int(alert_id)
    return None
