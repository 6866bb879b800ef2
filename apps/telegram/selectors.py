from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser

from apps.market.live import live_tickers_get
from apps.market.models import Candle, Symbol
from apps.telegram.models import TelegramChat

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
# The candle 24 hours back may be missing (an exchange halt, a gap not filled yet): an older one within this span
# still gives a fair 24h change.
DAY_AGO_TOLERANCE = timedelta(hours=1)


class UnknownSymbol(Exception):
    pass


class Quote(NamedTuple):
    symbol: str
    price: Decimal
    change_24h: Decimal | None  # percent
    live: bool  # from the streamer's ticker; otherwise from the last stored candle
    at: datetime


def chat_user(*, chat_id: int) -> AbstractBaseUser | None:
    """The user a chat is linked to."""
    chat = TelegramChat.objects.select_related("user").filter(chat_id=chat_id, user__is_active=True).first()
    return chat.user if chat else None


def _change(price: Decimal, day_open: Decimal) -> Decimal | None:
    return (price / day_open - 1) * 100 if day_open > 0 else None


def _ticker_quote(symbol: str, ticker: dict) -> Quote:
    """From the streamer's ticker (validated when it was stored): Binance's 24h rolling close and open."""
    price, day_open = Decimal(ticker["c"]), Decimal(ticker["o"])
    at = datetime.fromtimestamp(ticker["event_time"] / 1000, UTC)
    return Quote(symbol, price, _change(price, day_open), live=True, at=at)


def _candle_quote(symbol: Symbol) -> Quote | None:
    candles = Candle.objects.filter(symbol=symbol).order_by("-open_time")
    last = candles.only("open_time", "close", "price_scale").first()
    if last is None:
        return None
    day_start = last.open_time + MINUTE - DAY
    day_ago = (
        candles.filter(open_time__lte=day_start, open_time__gte=day_start - DAY_AGO_TOLERANCE)
        .only("open", "price_scale")
        .first()
    )
    price = last.price("close")
    change = _change(price, day_ago.price("open")) if day_ago else None
    return Quote(symbol.symbol, price, change, live=False, at=last.open_time + MINUTE)


def symbol_quote(*, symbol: str) -> Quote | None:
    """The last price and 24h change of a symbol: its live ticker, or else its last stored candle; None when there
    is neither yet. UnknownSymbol when there is no such symbol."""
    found = Symbol.objects.filter(symbol=symbol).first()
    if found is None:
        raise UnknownSymbol(symbol)
    ticker = live_tickers_get([symbol]).get(symbol)
    return _ticker_quote(symbol, ticker) if ticker else _candle_quote(found)


def top_movers(*, count: int) -> tuple[list[Quote], list[Quote]]:
    """The tracked symbols that rose most and fell most in 24h, by their live tickers (biggest first)."""
    symbols = list(Symbol.objects.tracked().values_list("symbol", flat=True))
    quotes = [_ticker_quote(symbol, ticker) for symbol, ticker in live_tickers_get(symbols).items()]
    moved = sorted((quote for quote in quotes if quote.change_24h is not None), key=lambda quote: quote.change_24h)
    gainers = [quote for quote in reversed(moved[-count:]) if quote.change_24h > 0]
    losers = [quote for quote in moved[:count] if quote.change_24h < 0]
    return gainers, losers
