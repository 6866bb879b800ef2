"""The streamer's hot path, free of I/O: each message parsed, validated, deduplicated and added to the batch.

Order is judged per candle (its open time), never across candles: Binance may push the first update of minute M+1
before the closing kline of minute M, and that close must still be stored. A close is dropped only when the same
candle's close already came; a forming update only when a newer update (of its candle or a later one) came first.
"""

from dataclasses import dataclass, field

from apps.market.binance.events import EventCounters, InvalidEvent, KlineEvent, envelope, kline_event, mini_tickers
from apps.market.binance.stream import TICKERS
from apps.market.klines import CandleRow
from apps.market.live import kline_stream

MINUTE_MS = 60_000
# Closes remembered per symbol to tell a repeated one from a late one. Binance never sends a close this late; one
# older than this would be upserted again, which changes nothing.
RECENT_CLOSES_MS = 60 * MINUTE_MS


@dataclass
class SymbolClock:
    """Per symbol: its newest candle and that candle's newest event time, the candles closed lately, and
    `settled_ms`: the open time up to which every minute has closed or is being repaired from REST (None until
    the first close, whose own fill covers what came before it)."""

    newest_open_ms: int = 0
    newest_event_ms: int = 0
    closed: set[int] = field(default_factory=set)
    settled_ms: int | None = None


@dataclass(frozen=True)
class Repair:
    """Minutes of `symbol` to fill from REST, up to `until_ms`: from `since_ms`, or, when None (a (re)connected
    stream's first close), from the newest stored candle."""

    symbol: str
    until_ms: int
    since_ms: int | None = None


@dataclass
class Batch:
    candles: dict[tuple[int, int], CandleRow] = field(default_factory=dict)
    klines: dict[str, dict] = field(default_factory=dict)
    tickers: dict[str, dict] = field(default_factory=dict)


Publication = tuple[str, dict]  # (our stream name, payload) for WebSocket clients


class StreamIngest:
    def __init__(self, symbol_ids: dict[str, int] | None = None) -> None:
        self.symbol_ids = symbol_ids or {}
        self.counters = EventCounters()
        self.batch = Batch()
        # Symbols of a (re)opened connection whose first closed kline has not arrived: what they missed is filled
        # from REST up to that kline. Repairs wait here for the streamer.
        self.awaiting_first_close: set[str] = set()
        self.repairs: list[Repair] = []
        self.exchange_ms = 0  # the exchange's clock: the newest event time it sent
        self._clocks: dict[str, SymbolClock] = {}

    def ingest(self, text: str) -> Publication | None:
        """Take one combined-stream message; a kline update comes back to be published."""
        self.counters.received += 1
        try:
            stream, data = envelope(text)
            if stream == TICKERS:
                self._tickers(mini_tickers(data, self.symbol_ids, self.counters))
            elif stream.endswith("@kline_1m"):
                return self._kline(kline_event(data, self.symbol_ids))
            elif isinstance(data, dict) and data.get("e") == "serverShutdown":
                raise ConnectionError("serverShutdown")
        except InvalidEvent as error:
            self.counters.drop(error.reason, f"{error}: {text}")
        return None

    def take_batch(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        return batch

    def _tickers(self, tickers: dict[str, dict]) -> None:
        self.batch.tickers.update(tickers)
        times = [ticker["event_time"] for ticker in tickers.values() if isinstance(ticker["event_time"], int)]
        self.exchange_ms = max([self.exchange_ms, *times])

    def _kline(self, event: KlineEvent) -> Publication:
        clock = self._clocks.setdefault(event.symbol, SymbolClock())
        open_ms = event.row[1]
        _check_order(event, clock)
        self.exchange_ms = max(self.exchange_ms, event.event_ms)
        if open_ms >= clock.newest_open_ms:
            # Live state follows the newest candle: a late close of the minute before does not take it back.
            if open_ms > clock.newest_open_ms:
                clock.newest_open_ms, clock.newest_event_ms = open_ms, 0
            clock.newest_event_ms = max(clock.newest_event_ms, event.event_ms)
            self.batch.klines[event.symbol] = event.payload
        if event.closed:
            self._close(event, clock)
        # A forming update of minute M means every minute before M-1 has closed by now; M-1's close may still come.
        self._notice_holes(event.symbol, clock, due_ms=open_ms + MINUTE_MS if event.closed else open_ms - MINUTE_MS)
        return kline_stream(event.symbol), event.payload

    def _close(self, event: KlineEvent, clock: SymbolClock) -> None:
        open_ms = event.row[1]
        self.batch.candles[(event.row[0], open_ms)] = event.row
        clock.closed.add(open_ms)
        if len(clock.closed) > 2 * RECENT_CLOSES_MS // MINUTE_MS:
            clock.closed = {closed for closed in clock.closed if closed > clock.newest_open_ms - RECENT_CLOSES_MS}
        if event.symbol in self.awaiting_first_close:
            self.awaiting_first_close.discard(event.symbol)
            self.repairs.append(Repair(event.symbol, until_ms=open_ms))
            clock.settled_ms = max(clock.settled_ms or open_ms, open_ms)

    def _notice_holes(self, symbol: str, clock: SymbolClock, *, due_ms: int) -> None:
        """Minutes after the settled one and before `due_ms` that never closed go to a REST repair at once."""
        if clock.settled_ms is None or symbol in self.awaiting_first_close or due_ms <= clock.settled_ms + MINUTE_MS:
            return
        missing = [m for m in range(clock.settled_ms + MINUTE_MS, due_ms, MINUTE_MS) if m not in clock.closed]
        if missing:
            self.repairs.append(Repair(symbol, until_ms=missing[-1] + MINUTE_MS, since_ms=missing[0]))
        clock.settled_ms = due_ms - MINUTE_MS


def _check_order(event: KlineEvent, clock: SymbolClock) -> None:
    open_ms = event.row[1]
    if open_ms in clock.closed:
        if event.closed:
            raise InvalidEvent(f"duplicate: {event.symbol} candle {open_ms} already closed", "duplicate")
        raise InvalidEvent(f"out of order: {event.symbol} candle {open_ms} updated after its close", "out_of_order")
    if not event.closed and (open_ms, event.event_ms) < (clock.newest_open_ms, clock.newest_event_ms):
        raise InvalidEvent(
            f"out of order: {event.symbol} candle {open_ms} event {event.event_ms} after candle "
            f"{clock.newest_open_ms} event {clock.newest_event_ms}",
            "out_of_order",
        )
