"""Validation of Binance stream events: each bad one is counted and logged with its reason, then dropped."""

import json
import logging
from collections import Counter
from dataclasses import dataclass, field

from apps.market.klines import CandleRow, InvalidKline, candle_row, decimal_text

logger = logging.getLogger(__name__)

KLINE_FIELDS = ("t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q")


class InvalidEvent(ValueError):
    """`reason` is a word from a small fixed set (a metric label); the message says what exactly was wrong."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class KlineEvent:
    symbol: str
    event_ms: int
    closed: bool
    row: CandleRow
    payload: dict  # Binance's `k` object, as clients of our stream receive it


@dataclass
class EventCounters:
    received: int = 0
    dropped: Counter = field(default_factory=Counter)

    def drop(self, reason: str, detail: object) -> None:
        self.dropped[reason] += 1
        logger.warning("dropped stream event (%s): %s", reason, str(detail)[:300])


CONTROL_REPLY = ""  # the "stream" of an answer to our SUBSCRIBE: `{"result": null, "id": 1}`


def envelope(text: str) -> tuple[str, object]:
    """A combined-stream message's (stream, data); CONTROL_REPLY and the reply for an answer to a request of ours."""
    try:
        message = json.loads(text)
    except ValueError:
        raise InvalidEvent("bad JSON") from None
    if isinstance(message, dict) and "id" in message and "result" in message:
        return CONTROL_REPLY, message
    if isinstance(message, dict) and "code" in message and "msg" in message:
        raise InvalidEvent(f"error reply: {message['code']} {message['msg']}", "error_reply")
    if not isinstance(message, dict) or not isinstance(message.get("stream"), str) or "data" not in message:
        raise InvalidEvent("not a combined-stream message")
    return message["stream"], message["data"]


def kline_event(data: object, symbol_ids: dict[str, int]) -> KlineEvent:
    if not isinstance(data, dict) or data.get("e") != "kline" or not isinstance(data.get("k"), dict):
        raise InvalidEvent("not a kline event")
    kline, symbol = data["k"], data.get("s")
    if symbol not in symbol_ids or kline.get("s") != symbol:
        raise InvalidEvent(f"unknown symbol {symbol!r}", "unknown_symbol")
    if kline.get("i") != "1m" or not isinstance(kline.get("x"), bool) or not isinstance(data.get("E"), int):
        raise InvalidEvent("missing or mistyped interval, closed flag or event time")
    try:
        row = candle_row(symbol_ids[symbol], [kline.get(name) for name in KLINE_FIELDS])
    except InvalidKline as error:
        raise InvalidEvent(str(error)) from None
    return KlineEvent(symbol, data["E"], kline["x"], row, kline)


def mini_tickers(data: object, symbol_ids: dict[str, int], counters: EventCounters) -> dict[str, dict]:
    """The valid tickers of a `!miniTicker@arr` array that belong to our symbols; bad entries are dropped."""
    if not isinstance(data, list):
        raise InvalidEvent("miniTicker array is not a list")
    tickers = {}
    for ticker in data:
        if not isinstance(ticker, dict) or ticker.get("s") not in symbol_ids:
            continue  # other shards' symbols, or pairs we do not track
        try:
            values = {name: decimal_text(ticker.get(name), name) for name in ("c", "o", "h", "l", "v", "q")}
        except InvalidKline as error:
            counters.drop("invalid", f"bad ticker {ticker.get('s')}: {error}")
            continue
        if float(values["c"]) <= 0 or float(values["h"]) < float(values["l"]):
            counters.drop("invalid", f"bad ticker {ticker}")
            continue
        tickers[ticker["s"]] = {"symbol": ticker["s"], "event_time": ticker.get("E"), **values}
    return tickers
