import argparse
import asyncio
import signal
import sys

from django.core.management.base import BaseCommand, CommandParser

from apps.market.services.streamer import Shard, Streamer


def shard(value: str) -> Shard:
    """`i/N`: this process takes the symbols whose id modulo N is i."""
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/N, e.g. 0/2, got {value!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"shard index must be in 0..{count - 1}, got {index}")
    return Shard(index, count)


class Command(BaseCommand):
    help = "Stream Binance's live klines and tickers into the candle store, the live state and WebSocket clients."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shard", type=shard, default=Shard(), help="i/N: run one of N streamers (default 0/1).")

    def handle(self, *args: object, shard: Shard, **options: object) -> None:
        # The event loop publishes while a thread flushes candles. Each send to Redis gives up the GIL and then
        # waits up to a switch interval to get it back from the flushing thread (5 ms by default): updates took
        # 20-50 ms to publish during every flush.
        sys.setswitchinterval(0.0005)
        asyncio.run(self._run(Streamer(shard)))

    async def _run(self, streamer: Streamer) -> None:
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop_signal, streamer.stop)
        self.stdout.write(f"streamer {streamer.shard} running")
        await streamer.run()
