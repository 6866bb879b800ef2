"""Live market state and its fan-out: the forming 1m candle and the latest ticker of every symbol, and the
channel-layer groups through which the streamer reaches WebSocket clients.

The state lives in Django's cache: Redis in production (shared by every streamer and web process), in process on
the embedded default. Stream names are what clients subscribe to; group names are what the channel layer knows.
"""

import re
from typing import Any

from channels.layers import get_channel_layer
from django.core.cache import cache

TICKER = "ticker"
KLINE_INTERVALS = ("1m",)  # the streamer follows Binance's 1m klines; longer intervals come from the klines API
_KLINE = re.compile(r"kline:([A-Z0-9]{2,32}):(\w+)")
_LIVE_KLINE = "live:kline:{symbol}"
_LIVE_TICKER = "live:ticker:{symbol}"
LIVE_TTL_SECONDS = 15 * 60  # a symbol whose stream stopped disappears from live state instead of lying


class InvalidStream(ValueError):
    pass


def kline_stream(symbol: str, interval: str = "1m") -> str:
    return f"kline:{symbol}:{interval}"


# Streams of the apps built on the market (strategies' `signals`), which this module must not import: each
# registers its names in its AppConfig.ready.
_REGISTERED_STREAMS: set[str] = set()


def stream_register(name: str) -> None:
    """Let clients subscribe to `name` (a plain word: it becomes a channel-layer group name)."""
    _REGISTERED_STREAMS.add(name)


def stream_checked(name: object) -> str:
    """A stream name a client may subscribe to: `ticker`, a registered one or `kline:<SYMBOL>:1m`."""
    if not isinstance(name, str):
        raise InvalidStream(f"unknown stream {name!r}: stream names are strings")
    if name == TICKER or name in _REGISTERED_STREAMS:
        return name
    match = _KLINE.fullmatch(name)
    if match is None:
        plain = ", ".join(repr(stream) for stream in (TICKER, *sorted(_REGISTERED_STREAMS)))
        raise InvalidStream(f"unknown stream {name!r}: use {plain} or 'kline:<SYMBOL>:<interval>'")
    if match.group(2) not in KLINE_INTERVALS:
        raise InvalidStream(
            f"interval {match.group(2)!r} is not streamed: live klines are {', '.join(KLINE_INTERVALS)}"
        )
    return name


def stream_group(stream: str) -> str:
    """The channel-layer group of a stream (group names allow letters, digits, hyphens, underscores and dots)."""
    return "stream." + stream.replace(":", ".")


async def live_publish(stream: str, data: Any) -> None:
    await get_channel_layer().group_send(
        stream_group(stream), {"type": "stream.message", "stream": stream, "data": data}
    )


def live_klines_set(klines: dict[str, dict]) -> None:
    """The forming (or just closed) 1m candle of each symbol, in Binance's kline event format (`k`)."""
    cache.set_many({_LIVE_KLINE.format(symbol=symbol): kline for symbol, kline in klines.items()}, LIVE_TTL_SECONDS)


def live_tickers_set(tickers: dict[str, dict]) -> None:
    cache.set_many({_LIVE_TICKER.format(symbol=symbol): ticker for symbol, ticker in tickers.items()}, LIVE_TTL_SECONDS)


def live_kline_get(symbol: str) -> dict | None:
    return cache.get(_LIVE_KLINE.format(symbol=symbol))


def live_tickers_get(symbols: list[str]) -> dict[str, dict]:
    found = cache.get_many([_LIVE_TICKER.format(symbol=symbol) for symbol in symbols])
    return {key.rsplit(":", 1)[1]: ticker for key, ticker in found.items()}
