"""What the bot answers. Each update (a message, or a press on a button under an alert) becomes the Bot API calls
that answer it; tasks/telegram.py sends them.

Anyone may ask for prices (`/price`, `/top`) and link their private chat with the bot (`/start CODE`); the alert
commands act on the alerts of the user the chat is linked to.
"""

import logging
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from apps.telegram.alert_commands import alert_button_parse, alert_commands
from apps.telegram.selectors import Quote, UnknownSymbol, chat_user, symbol_quote, top_movers
from apps.telegram.services import LinkRefused, chat_link

logger = logging.getLogger(__name__)

TOP_COUNT = 5
SYMBOL = re.compile(r"[A-Z0-9]{2,32}")

HELP = """Commands:
/price SYMBOL - last price and 24h change, e.g. /price BTCUSDT
/top - the biggest gainers and losers of the last 24h
/alert SYMBOL CONDITION - a new alert, e.g. /alert BTCUSDT > 100000
/alerts - your alerts
/delete ID - delete an alert
/mute ID - mute an alert; /mute all - mute all of them
/start CODE - link this private chat to your account (create the code in the app)"""
WELCOME = (
    "Hello! I send your screener alerts and answer price questions.\n"
    "To get your alerts here, create a link code in the app and send /start CODE within 10 minutes.\n\n" + HELP
)
LINK_FIRST = "Link your account first: create a link code in the app and send /start CODE here."
PRIVATE_ONLY = "Link your account in a private chat with me: send /start CODE there."
NOT_A_COMMAND = "I only understand commands. /help lists them."
USAGE = {
    "price": "Usage: /price SYMBOL, e.g. /price BTCUSDT",
    "alert": "Usage: /alert SYMBOL CONDITION, e.g. /alert BTCUSDT > 100000",
    "delete": "Usage: /delete ID (/alerts lists the ids)",
    "mute": "Usage: /mute ID, or /mute all (/alerts lists the ids)",
}


@dataclass(frozen=True)
class Call:
    """One call of the Telegram client: a method of TelegramBot (REPLY_METHODS) and its keyword arguments."""

    method: str
    kwargs: dict[str, Any]


class UnreadableUpdate(ValueError):
    """An update whose parts are not what the Bot API documents."""


def update_handle(*, update: dict[str, Any]) -> list[Call]:
    """The calls that answer an update; none for updates the bot ignores (edits, stickers, photos...) or cannot
    read (logged: Telegram sends each update until it gets a 200, so refusing it could not bring a better one)."""
    try:
        return _update_answered(update)
    except UnreadableUpdate as error:
        logger.warning("telegram update %s ignored: %s", update.get("update_id"), error)
        return []


def _object(parent: dict[str, Any], name: str) -> dict[str, Any]:
    """The object `parent[name]`, or an empty one if there is none."""
    value = parent.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnreadableUpdate(f"{name} is not an object: {reprlib.repr(value)}")
    return value


def _update_answered(update: dict[str, Any]) -> list[Call]:
    if "callback_query" in update:
        return _button_pressed(_object(update, "callback_query"))
    message = _object(update, "message")
    chat, text = _object(message, "chat"), message.get("text")
    if not isinstance(chat.get("id"), int) or not isinstance(text, str):
        return []
    return [Call("send_message", {"chat_id": chat["id"], "text": _reply(chat, text)})]


def _reply(chat: dict[str, Any], text: str) -> str:
    if not text.startswith("/"):
        return NOT_A_COMMAND
    command, *args = text.split()
    name = command[1:].split("@", 1)[0].lower()  # "/price@screener_bot" in groups
    if name in OPEN_COMMANDS:
        return OPEN_COMMANDS[name](chat, args)
    if name in ALERT_COMMANDS:
        user = chat_user(chat_id=chat["id"])
        return ALERT_COMMANDS[name](user, args) if user else LINK_FIRST
    return f"Unknown command /{name}. /help lists the commands."


def _start(chat: dict[str, Any], args: list[str]) -> str:
    if not args:
        return WELCOME
    # Anyone in a group could use the alert commands of the user it were linked to.
    if chat.get("type") != "private":
        return PRIVATE_ONLY
    try:
        user = chat_link(chat_id=chat["id"], code=args[0])
    except LinkRefused as refused:
        return str(refused)
    return f"This chat is now linked to {user.get_username()}: your alerts come here. /help lists the commands."


def _help(chat: dict[str, Any], args: list[str]) -> str:
    return HELP


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")  # 93622.19000000 -> 93622.19, without turning 100 into 1E+2


def _change(quote: Quote) -> str:
    return "24h change unknown" if quote.change_24h is None else f"{quote.change_24h:+.2f}% in 24h"


def _price(chat: dict[str, Any], args: list[str]) -> str:
    if len(args) != 1 or not SYMBOL.fullmatch(args[0].upper()):
        return USAGE["price"]
    symbol = args[0].upper()
    try:
        quote = symbol_quote(symbol=symbol)
    except UnknownSymbol:
        return f"Unknown symbol {symbol}: not a pair on this screener."
    if quote is None:
        return f"No price for {symbol} yet."
    line = f"{symbol} {_number(quote.price)}, {_change(quote)}"
    return line if quote.live else f"{line} (last stored candle, {quote.at:%Y-%m-%d %H:%M} UTC)"


def _top(chat: dict[str, Any], args: list[str]) -> str:
    gainers, losers = top_movers(count=TOP_COUNT)
    if not gainers and not losers:
        return "No live prices right now: try /price SYMBOL."
    lines = ["Top gainers (24h):", *_movers(gainers), "", "Top losers (24h):", *_movers(losers)]
    return "\n".join(lines)


def _movers(quotes: list[Quote]) -> list[str]:
    return [f"{quote.symbol} {quote.change_24h:+.2f}% {_number(quote.price)}" for quote in quotes] or ["none"]


def _alert(user: AbstractBaseUser, args: list[str]) -> str:
    if len(args) < 2 or not SYMBOL.fullmatch(args[0].upper()):
        return USAGE["alert"]
    return alert_commands().create(user, args[0].upper(), " ".join(args[1:]))


def _alerts(user: AbstractBaseUser, args: list[str]) -> str:
    return alert_commands().list(user)


def _alert_id(args: list[str]) -> int | None:
    return int(args[0]) if len(args) == 1 and args[0].isascii() and args[0].isdigit() else None


def _delete(user: AbstractBaseUser, args: list[str]) -> str:
    alert_id = _alert_id(args)
    return USAGE["delete"] if alert_id is None else alert_commands().delete(user, alert_id)


def _mute(user: AbstractBaseUser, args: list[str]) -> str:
    if [arg.lower() for arg in args] == ["all"]:
        return alert_commands().mute(user, None)
    alert_id = _alert_id(args)
    return USAGE["mute"] if alert_id is None else alert_commands().mute(user, alert_id)


OPEN_COMMANDS: dict[str, Callable[[dict[str, Any], list[str]], str]] = {
    "start": _start,
    "help": _help,
    "price": _price,
    "top": _top,
}
ALERT_COMMANDS: dict[str, Callable[[AbstractBaseUser, list[str]], str]] = {
    "alert": _alert,
    "alerts": _alerts,
    "delete": _delete,
    "mute": _mute,
}


def _button_pressed(query: dict[str, Any]) -> list[Call]:
    """A button under an alert: answered with a notice; once acted on, the message's buttons are removed so that
    they are not pressed again."""
    message = _object(query, "message")
    chat_id, message_id = _object(message, "chat").get("id"), message.get("message_id")
    data = query.get("data")
    pressed = alert_button_parse(data) if isinstance(data, str) else None
    user = chat_user(chat_id=chat_id) if isinstance(chat_id, int) else None

    def notice(text: str) -> Call:
        return Call("answer_callback_query", {"callback_query_id": query.get("id"), "text": text})

    if pressed is None or not isinstance(message_id, int):
        return [notice("This button does nothing any more.")]
    if user is None:
        return [notice(LINK_FIRST)]
    action, alert_id = pressed
    commands = alert_commands()
    reply = commands.mute(user, alert_id) if action == "mute" else commands.delete(user, alert_id)
    return [notice(reply), Call("edit_message_reply_markup", {"chat_id": chat_id, "message_id": message_id})]
