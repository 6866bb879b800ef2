"""The streamer: Binance's live klines and tickers into the candle store, the live state and the channel layer.

Its symbols (this shard's share of the tracked ones) are spread over connections of at most
STREAM_MAX_PER_CONNECTION streams. Each connection reconnects with exponential backoff and jitter when dropped or
silent, and is replaced before Binance's 24-hour cut by a new one that takes over once it delivers (overlapping
events are deduplicated). After any (re)connect, the minutes between a symbol's newest stored candle and the first
closed kline on the new connection are filled from REST, and so is any minute whose close never came while the
connection stayed up, as soon as it is noticed: the candle table never keeps a hole.
"""

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from apps.market.binance.stream import TICKERS, StreamConnection, kline_stream_name
from apps.market.intervals import datetime_from_ms
from apps.market.live import TICKER, live_klines_set, live_publish, live_tickers_set
from apps.market.models import Symbol
from apps.market.services.backfill import symbols_backfill
from apps.market.services.candles import candles_upsert
from apps.market.services.stream_ingest import MINUTE_MS, Batch, Repair, StreamIngest
from apps.market.signals import minutes_closed, tickers_updated

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
HEARTBEAT_TTL_SECONDS = 300
# Per shard, for monitoring: when it last heard from Binance, its message and repair counters, the exchange's clock
# and how far its stored closed candles reach. Kept without expiry, so that
# a stopped streamer reads as silent for so long rather than as never started; the cache cannot list its keys,
# hence the shard count beside them.
STATUS_KEY = "streamer:status:{shard}"
SHARD_COUNT_KEY = "streamer:shard-count"
# Each group_send is a couple of Redis round trips: one at a time, 1000 updates a second would queue up.
PUBLISH_CONCURRENCY = 32
OUTBOX_LIMIT = 100_000  # updates waiting for the channel layer; past it the oldest go (counted)
CONNECTION_ERRORS = (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI)


@dataclass(frozen=True)
class Shard:
    index: int = 0
    count: int = 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def symbols(self) -> dict[str, int]:
        tracked = Symbol.objects.tracked().order_by("id").values_list("symbol", "id")
        return {name: symbol_id for name, symbol_id in tracked if symbol_id % self.count == self.index}


def stream_plan(symbols: list[str], per_connection: int) -> list[list[str]]:
    """Stream names per connection: the tickers first, then each symbol's klines, at most `per_connection` each."""
    names = [TICKERS, *(kline_stream_name(symbol) for symbol in sorted(symbols))]
    return [names[start : start + per_connection] for start in range(0, len(names), per_connection)]


@dataclass
class RepairTotals:
    """REST repairs run since start: how many, the candles they stored and the seconds they took."""

    runs: int = 0
    minutes: int = 0
    seconds: float = 0.0


class Streamer:
    def __init__(self, shard: Shard = Shard()) -> None:
        self.shard = shard
        self.ingest = StreamIngest()
        self._tickers_due = 0.0
        self._repairs: asyncio.Queue[Repair] = asyncio.Queue()
        self.repair_totals = RepairTotals()
        # The close time of the newest candle this run stored, and the exchange's clock when it first heard from
        # it (the lag counts from there until a first candle is stored): /health compares them with the clock.
        self._stored_through_ms: int | None = None
        self._first_heard_ms: int | None = None
        self._connections: dict[int, asyncio.Task] = {}  # per slot, the current connection
        self._all_connections: set[asyncio.Task] = set()  # with those still reading until their successor delivers
        self._plan: list[list[str]] = []
        self._stopping = asyncio.Event()
        self._outbox: deque[tuple[str, object]] = deque(maxlen=OUTBOX_LIMIT)
        self._outbox_ready = asyncio.Event()
        self._last_message: dict[int, float] = {}
        self._delivering: dict[int, asyncio.Task] = {}  # per slot, the newest connection that delivered
        self._unpublished_tickers: dict[str, dict] = {}
        self._repairing: asyncio.Future | None = None

    async def run(self) -> None:
        loops = (self._follow_symbols, self._flush_forever, self._repair_forever, self._publish_forever)
        tasks = [asyncio.create_task(loop()) for loop in loops]
        try:
            await self._stopping.wait()
        finally:
            every = [*tasks, *self._all_connections]
            for task in every:
                task.cancel()
            # A repair runs in a thread that cannot be cancelled: stopping waits for it rather than leave it behind.
            await asyncio.gather(*every, *([self._repairing] if self._repairing else []), return_exceptions=True)
            await self._flush()

    def stop(self) -> None:
        self._stopping.set()

    # -- which streams, on which connections
    async def _follow_symbols(self) -> None:
        """Pick up symbols (de)activated in the admin: connections whose streams changed are replaced."""
        while True:
            try:
                self.ingest.symbol_ids = await sync_to_async(self.shard.symbols, thread_sensitive=False)()
            except Exception as error:  # the database away: keep streaming the symbols we have
                logger.error("could not read the tracked symbols: %s", error)
                await asyncio.sleep(settings.STREAM_SYMBOLS_REFRESH_SECONDS)
                continue
            plan = stream_plan(list(self.ingest.symbol_ids), settings.STREAM_MAX_PER_CONNECTION)
            for index, streams in enumerate(plan):
                if index >= len(self._plan) or self._plan[index] != streams:
                    self._replace(index, streams)
            for index in range(len(plan), len(self._plan)):
                self._connections.pop(index).cancel()
            self._plan = plan
            await asyncio.sleep(settings.STREAM_SYMBOLS_REFRESH_SECONDS)

    def _replace(self, index: int, streams: list[str]) -> None:
        """A new connection for slot `index`; the one it replaces keeps reading until the new one delivers."""
        task = asyncio.create_task(self._keep_connected(index, streams))
        self._connections[index] = task
        self._all_connections.add(task)
        task.add_done_callback(self._all_connections.discard)

    def _superseded(self, index: int) -> bool:
        current = self._connections.get(index)
        return current is not asyncio.current_task() and self._delivering.get(index) is current

    async def _keep_connected(self, index: int, streams: list[str]) -> None:
        attempt = 0
        while not self._superseded(index):
            received, reason = await self._connect_once(index, streams)
            if self._superseded(index):
                return
            attempt = 0 if received else attempt
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt) * random.uniform(0.5, 1.5)
            attempt += 1
            logger.warning("stream connection %d lost (%s); reconnecting in %.1fs", index, reason, delay)
            await asyncio.sleep(delay)

    async def _connect_once(self, index: int, streams: list[str]) -> tuple[int, str]:
        """Read one connection until it fails or is superseded; returns how many messages it delivered and why."""
        connection = StreamConnection(settings.BINANCE_WS_URL, streams, silence_seconds=settings.STREAM_SILENCE_SECONDS)
        received = 0
        try:
            await connection.open()
            async for text in self._delivered(index, connection, streams):
                received += 1
                self._handle(text)
            return received, "closed by the exchange"
        except CONNECTION_ERRORS as error:
            return received, f"{error.__class__.__name__}: {error}"
        finally:
            await connection.close()

    async def _delivered(self, index: int, connection: StreamConnection, streams: list[str]) -> AsyncIterator[str]:
        """The connection's messages, until a replacement delivers; past its lifetime, it starts that replacement."""
        opened, rotating, this = time.monotonic(), False, asyncio.current_task()
        self.ingest.awaiting_first_close |= {name.split("@")[0].upper() for name in streams if name != TICKERS}
        async for text in connection.messages():
            if self._superseded(index):
                return  # the replacement delivers (overlapping events are deduplicated): this one can go
            if self._connections.get(index) is this:
                self._delivering[index] = this
            self._last_message[index] = time.time()
            yield text
            if (
                self._delivering.get(index) is this
                and not rotating
                and time.monotonic() - opened > settings.STREAM_ROTATE_SECONDS
            ):
                rotating = True
                logger.info("stream connection %d rotates before the exchange's 24-hour cut", index)
                self._replace(index, self._plan[index])

    # -- events
    def _handle(self, text: str) -> None:
        publication = self.ingest.ingest(text)
        if publication is not None:
            self._publish(*publication)
        while self.ingest.repairs:
            self._repairs.put_nowait(self.ingest.repairs.pop())

    def _publish(self, stream: str, data: object) -> None:
        # One queue and one publishing task: a task per event would cost more than parsing the event.
        if len(self._outbox) == self._outbox.maxlen:
            self.ingest.counters.drop("publication_backlog", stream)
        self._outbox.append((stream, data))
        self._outbox_ready.set()

    async def _publish_forever(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                await asyncio.gather(*(self._publish_one(stream, data) for stream, data in self._next_publications()))

    def _next_publications(self) -> list[tuple[str, object]]:
        """Up to PUBLISH_CONCURRENCY updates to send at once, each of a different stream, so that two updates of
        one stream (a forming candle, then the same candle closed) can never overtake each other."""
        batch: dict[str, object] = {}
        while self._outbox and len(batch) < PUBLISH_CONCURRENCY and self._outbox[0][0] not in batch:
            stream, data = self._outbox.popleft()
            batch[stream] = data
        return list(batch.items())

    async def _publish_one(self, stream: str, data: object) -> None:
        try:
            await live_publish(stream, data)
        except Exception as error:  # the channel layer (Redis) failing must not stop the streamer
            logger.error("publishing %s failed: %s", stream, error)

    # -- writing
    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(settings.STREAM_FLUSH_SECONDS)
            await self._flush()

    async def _flush(self) -> None:
        batch = self.ingest.take_batch()
        heartbeats = {f"streamer:heartbeat:{self.shard}:{index}": at for index, at in self._last_message.items()}
        status = {STATUS_KEY.format(shard=self.shard): self._status(), SHARD_COUNT_KEY: self.shard.count}
        try:
            await sync_to_async(_store, thread_sensitive=False)(batch, heartbeats=heartbeats, status=status)
        except Exception as error:  # the database or Redis failing: keep the candles for the next flush
            logger.error("flush failed, %d candles kept for the next one: %s", len(batch.candles), error)
            self.ingest.batch.candles = batch.candles | self.ingest.batch.candles
            return
        if batch.candles:
            newest_close_ms = max(open_ms for _, open_ms in batch.candles) + MINUTE_MS
            self._stored_through_ms = max(self._stored_through_ms or 0, newest_close_ms)
        # Live state always has the latest tickers; clients get them coalesced, once per interval at most.
        self._unpublished_tickers.update(batch.tickers)
        if self._unpublished_tickers and time.monotonic() >= self._tickers_due:
            tickers, self._unpublished_tickers = self._unpublished_tickers, {}
            self._tickers_due = time.monotonic() + settings.STREAM_TICKER_INTERVAL_SECONDS
            await self._publish_one(TICKER, tickers)

    def _status(self) -> dict[str, object]:
        self._first_heard_ms = self._first_heard_ms or self.ingest.exchange_ms or None
        return {
            "heartbeat": max(self._last_message.values(), default=None),
            "received": self.ingest.counters.received,
            "dropped": dict(self.ingest.counters.dropped),
            "exchange_ms": self.ingest.exchange_ms or None,
            "stored_through_ms": self._stored_through_ms or self._first_heard_ms,
            "repairs": vars(self.repair_totals).copy(),
        }

    async def _repair_forever(self) -> None:
        """Fill from REST what the stream missed: before a symbol's first closed kline on a (new) connection, and
        each hole noticed in its closed minutes since."""
        while True:
            repair = await self._repairs.get()
            symbol_id = self.ingest.symbol_ids.get(repair.symbol)
            if symbol_id is None:
                continue  # switched off in the admin since
            await self._flush()  # what the stream delivered is stored first: REST is asked only for the rest
            until = datetime_from_ms(repair.until_ms)
            since = datetime_from_ms(repair.since_ms) if repair.since_ms is not None else None
            started = time.monotonic()
            self._repairing = asyncio.ensure_future(
                sync_to_async(symbols_backfill, thread_sensitive=False)(
                    symbol_ids=[symbol_id],
                    since=since or until - timedelta(days=settings.MARKET_RECENT_WINDOW_DAYS),
                    until=until,
                    from_newest=since is None,
                )
            )
            try:
                reports = await asyncio.shield(self._repairing)
            except Exception as error:  # one failed repair must not end the loop; the catch-up task gets there
                logger.error("could not repair %s before %s: %s", repair.symbol, until, error)
                continue
            self._repaired(repair.symbol, since, until, sum(report.stored for report in reports), started)

    def _repaired(self, symbol: str, since: datetime | None, until: datetime, stored: int, started: float) -> None:
        seconds = time.monotonic() - started
        self.repair_totals.runs += 1
        self.repair_totals.minutes += stored
        self.repair_totals.seconds += seconds
        start = since.isoformat() if since else "its newest stored candle"
        # Every (re)connect checks each symbol's tail: those that found nothing missing would only be noise.
        level = logging.INFO if stored or since else logging.DEBUG
        message = "repaired %s from %s to %s from REST: %d candles in %.2f s"
        logger.log(level, message, symbol, start, until.isoformat(), stored, seconds)


def _store(batch: Batch, *, heartbeats: dict[str, float], status: dict[str, object]) -> None:
    """One flush, in a worker thread: candles, live state, each connection's last message time (its heartbeat) and
    the shard's status (for /health and /metrics)."""
    close_old_connections()  # as a worker does between tasks: a connection that failed is not used again
    cache.set_many(heartbeats, HEARTBEAT_TTL_SECONDS)
    cache.set_many(status, timeout=None)
    if batch.candles:
        rows = list(batch.candles.values())
        candles_upsert(rows=rows)
        # Stored is stored: what the receivers (the indicators' incremental path) fail at is theirs to catch up on.
        for receiver, outcome in minutes_closed.send_robust(sender=Streamer, rows=rows):
            if isinstance(outcome, Exception):
                logger.error("%s failed on %d closed minutes: %r", receiver.__qualname__, len(rows), outcome)
    if batch.klines:
        live_klines_set(batch.klines)
    if batch.tickers:
        live_tickers_set(batch.tickers)
        for receiver, outcome in tickers_updated.send_robust(sender=Streamer, tickers=batch.tickers):
            if isinstance(outcome, Exception):
                logger.error("%s failed on %d tickers: %r", receiver.__qualname__, len(batch.tickers), outcome)
