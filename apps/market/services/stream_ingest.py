"""The streamer's hot path, free of I/O: each message parsed, validated, deduplicated and added to the batch."""

from dataclasses import dataclass, field

from apps.market.binance.events import EventCounters, InvalidEvent, KlineEvent, envelope, kline_event, mini_tickers
from apps.market.binance.stream import TICKERS
from apps.market.klines import CandleRow
from apps.market.live import kline_stream


@dataclass
class SymbolClock:
    """Per symbol: the newest event and closed candle seen, to drop stale and repeated events."""

    event_ms: int = 0
    closed_open_ms: int = 0


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
        # Symbols of a (re)opened connection whose first closed kline has not arrived, and those that just got it:
        # the streamer fills each one's missed minutes from REST up to that kline.
        self.awaiting_first_close: set[str] = set()
        self.first_closes: list[tuple[str, int]] = []
        self._clocks: dict[str, SymbolClock] = {}

    def ingest(self, text: str) -> Publication | None:
        """Take one combined-stream message; a kline update comes back to be published."""
        self.counters.received += 1
        try:
            stream, data = envelope(text)
            if stream == TICKERS:
                self.batch.tickers.update(mini_tickers(data, self.symbol_ids, self.counters))
            elif stream.endswith("@kline_1m"):
                return self._kline(kline_event(data, self.symbol_ids))
            elif isinstance(data, dict) and data.get("e") == "serverShutdown":
                raise ConnectionError("serverShutdown")
        except InvalidEvent as error:
            self.counters.drop(str(error).split(":")[0], text)
        return None

    def take_batch(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        return batch

    def _kline(self, event: KlineEvent) -> Publication:
        clock = self._clocks.setdefault(event.symbol, SymbolClock())
        if event.event_ms < clock.event_ms:
            raise InvalidEvent(f"out of order: {event.symbol} event {event.event_ms} after {clock.event_ms}")
        if event.row[1] < clock.closed_open_ms or (event.closed and event.row[1] == clock.closed_open_ms):
            raise InvalidEvent(f"duplicate: {event.symbol} candle {event.row[1]} already closed")
        clock.event_ms = event.event_ms
        self.batch.klines[event.symbol] = event.payload
        if event.closed:
            clock.closed_open_ms = event.row[1]
            self.batch.candles[(event.row[0], event.row[1])] = event.row
            if event.symbol in self.awaiting_first_close:
                self.awaiting_first_close.discard(event.symbol)
                self.first_closes.append((event.symbol, event.row[1]))
        return kline_stream(event.symbol), event.payload
