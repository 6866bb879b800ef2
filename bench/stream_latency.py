"""`stream_latency`: from our fake exchange sending a kline to a subscribed WebSocket client receiving it, with 500
symbols streamed and 200 concurrent clients on loopback, through the whole production path: the streamer
(`manage.py stream`, its own process) -> the channel layer on Redis -> daphne (its own process) -> the clients.

Several rounds, each with new processes, alternating with the baseline: the same path on channels_redis's list-based
layer (the project's before its pub/sub one). `value` is the p99 in ms of the worst round."""

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import bench_database, write_result

SYMBOLS = 500
CLIENTS = 200
STREAMS_PER_CLIENT = 5
# Replayed at one minute every 2 s, each symbol on its own beat as Binance pushes (every 2 s a stream): 500 kline
# events a second, half forming updates, half closed candles.
MINUTES = 20
MINUTES_PER_SECOND = 0.5
ROUNDS = 3
# Which settings the streamer and daphne run with: the project's, and the baseline's.
LAYERS = {"pubsub": "config.settings.test", "list_based": "bench.list_layer_settings"}
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(port: int, exchange, timeout: float = 120) -> None:
    """Until daphne accepts connections and the streamer is connected to the exchange: a fixed pause was too short
    on a loaded machine (clients refused), and too long on an idle one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            listening = probe.connect_ex(("127.0.0.1", port)) == 0
        if listening and exchange.streams.clients:
            return
        time.sleep(0.2)
    raise RuntimeError(f"daphne on port {port} or the streamer not ready within {timeout:.0f} s")


def _symbols() -> dict[str, int]:
    from apps.market.models import Symbol

    Symbol.objects.exclude(symbol__startswith="LAT").update(is_active=False)
    return {
        f"LAT{n}USDT": Symbol.objects.update_or_create(
            symbol=f"LAT{n}USDT",
            defaults={"base_asset": f"LAT{n}", "quote_asset": "USDT", "status": "TRADING", "tick_size": "0.01",
                      "step_size": "0.001", "is_active": True},
        )[0].id
        for n in range(SYMBOLS)
    }  # fmt: skip


def _market(names: list[str]):
    from fakes.market import FakeMarket, FakeSymbol
    from fakes.recorded import archive_1m

    rows = archive_1m()
    market = FakeMarket(clock=lambda: int(rows[0][0]))
    for name in names:
        market.add_symbol(FakeSymbol(name, name.removesuffix("USDT"), "USDT"), [list(row) for row in rows])
    return market, int(rows[0][0])


def _process(arguments: list[str], environment: dict) -> subprocess.Popen:
    # Their output goes to a log beside the system's temporary files, to read when a run goes wrong.
    log = Path(tempfile.gettempdir()) / f"bench-stream_latency-{arguments[1]}.log"
    with log.open("w") as output:
        return subprocess.Popen([sys.executable, *arguments], cwd=ROOT, env=environment, stdout=output, stderr=output)


async def _client(port: int, streams: list[str], sent_at: dict, latencies: list[float], ready: asyncio.Event,
                   stop: asyncio.Event) -> None:  # fmt: skip
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/stream/", origin="http://127.0.0.1") as socket_:
        await socket_.send(json.dumps({"action": "subscribe", "streams": streams}))
        await socket_.recv()
        ready.set()
        while not stop.is_set():
            try:
                frame = json.loads(await asyncio.wait_for(socket_.recv(), timeout=1.0))
            except TimeoutError:
                continue
            received = time.time()
            if frame.get("type") == "update":
                kline = frame["data"]
                sent = sent_at.get((kline["s"], kline["t"], kline["x"]))
                if sent is not None:
                    latencies.append((received - sent) * 1000)


async def _measure(port: int, names: list[str], exchange, start_ms: int) -> list[float]:
    latencies: list[float] = []
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(CLIENTS)]
    random.seed(7)
    clients = [
        asyncio.create_task(_client(port, [f"kline:{name}:1m" for name in random.sample(names, STREAMS_PER_CLIENT)],
                                    exchange.streams.sent_at, latencies, ready, stop))
        for ready in readies
    ]  # fmt: skip
    await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), timeout=60)
    replay = exchange.replay(start_ms=start_ms, minutes=MINUTES, minutes_per_second=MINUTES_PER_SECOND, spread=True)
    while not replay.done.is_set():
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(*clients, return_exceptions=True)
    return latencies


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _round(settings_module: str, names: list[str]) -> list[float]:
    """One round on new processes and a new exchange, on a candle table without the replayed minutes."""
    from apps.market.models import Candle, HourlyCandle
    from fakes.binance_server import FakeBinance

    for model in (Candle, HourlyCandle):
        model.objects.filter(symbol__symbol__startswith="LAT").delete()
    market, start_ms = _market(names)
    port = _free_port()
    with FakeBinance(market) as exchange:
        exchange.streams.sent_at = {}
        environment = os.environ | {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "BINANCE_WS_URL": exchange.ws_url, "BINANCE_REST_URL": exchange.rest_url,
            "BINANCE_ARCHIVE_URL": exchange.archive_url, "MARKET_RECENT_WINDOW_DAYS": "1",
        }  # fmt: skip
        processes = [
            _process(["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"], environment),
            _process(["manage.py", "stream"], environment),
        ]
        try:
            _wait_ready(port, exchange)
            return asyncio.run(_measure(port, names, exchange, start_ms))
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)


def _summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_percentile(latencies, 0.50), 1),
        "p90_ms": round(_percentile(latencies, 0.90), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.mean(latencies), 1),
        "frames_measured": len(latencies),
    }


def main() -> None:
    bench_database()
    names = list(_symbols())
    rounds: dict[str, list[dict]] = {layer: [] for layer in LAYERS}
    for _ in range(ROUNDS):
        for layer, settings_module in LAYERS.items():
            rounds[layer].append(_summary(_round(settings_module, names)))
            print(layer, rounds[layer][-1], flush=True)
    worst = {layer: max(summary["p99_ms"] for summary in summaries) for layer, summaries in rounds.items()}
    write_result(
        name="stream_latency",
        unit="ms",
        value=worst["pubsub"],
        better="lower",
        baselines={"list_based_channel_layer": worst["list_based"]},
        params={
            "symbols": SYMBOLS,
            "clients": CLIENTS,
            "streams_per_client": STREAMS_PER_CLIENT,
            "klines_per_second": 2 * SYMBOLS * MINUTES_PER_SECOND,
            "seconds": MINUTES / MINUTES_PER_SECOND,
            "rounds": ROUNDS,
            "channel_layer": "channels_redis pub/sub",
        },
        extra={
            "p99_ms_per_round": [summary["p99_ms"] for summary in rounds["pubsub"]],
            "p50_ms_per_round": [summary["p50_ms"] for summary in rounds["pubsub"]],
            "rounds": rounds["pubsub"],
            "list_based_channel_layer_rounds": rounds["list_based"],
            "target_p99_ms": 100,
        },
    )


if __name__ == "__main__":
    main()
