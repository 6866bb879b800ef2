"""`screener`: `GET /api/v1/screener/` (its default page of 100 rows, each with its full payload: metadata, live
figures, sparkline, the snapshot of all four timeframes; gzip accepted) with 500 symbols under 50 concurrent
keep-alive clients on loopback, against `orm_per_request` (bench/urls.py: the same payload built from the ORM on
every request, gzipped by Django's middleware), same run, same server; `extra` also has every row at once
(`page_size=500`). The server runs as in production
(production settings, daphne, Redis); the clients in their own process.

The 50 clients ask back to back, so the server is saturated and each request waits behind the others: latency is
about clients / throughput (Little's law), whatever the machine. The screener is measured in several rounds, and also
at a fixed rate below saturation (`extra.at_fixed_rate`: requests sent on a schedule, each timed from when it was
due, so a stalled server is not hidden by clients that stopped asking). `value` is the p99 in ms of the worst
round."""

import asyncio
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SYMBOLS = 500
CLIENTS = 50
SECONDS = 10.0
WARM_UP_SECONDS = 2.0
ROUNDS = 3
FIXED_RATE_PER_SECOND = 400
TIMEFRAMES = ["15m", "1h", "4h", "1d"]
PATHS = {
    "screener": "/api/v1/screener/",  # the default page: 100 rows
    "orm_per_request": "/bench/screener-orm/",
    "screener_every_row": "/api/v1/screener/?page_size=500",
}


def _market() -> None:
    """500 symbols with metadata, live tickers, a snapshot of every indicator on every timeframe and 24 hourly
    closes, written through the same code as the pipeline's."""
    from datetime import UTC, datetime

    from apps.indicators.engine import indicators_compute, snapshot_at
    from apps.indicators.models import Snapshot
    from apps.indicators.registry import Series
    from apps.market.klines import klines_parse
    from apps.market.live import live_tickers_set
    from apps.market.models import CoinMetadata, Symbol
    from apps.market.services.candles import candles_upsert

    Symbol.objects.filter(symbol__startswith="SCR").delete()
    symbols = Symbol.objects.bulk_create([
        Symbol(symbol=f"SCR{n}USDT", base_asset=f"SCR{n}", quote_asset="USDT", status="TRADING", tick_size="0.0001",
               step_size="0.001") for n in range(SYMBOLS)
    ])  # fmt: skip
    CoinMetadata.objects.filter(base_asset__startswith="SCR").delete()
    generator = np.random.default_rng(5)
    CoinMetadata.objects.bulk_create([
        CoinMetadata(base_asset=symbol.base_asset, cmc_id=n + 1, name=f"Coin {n}", rank=n + 1,
                     market_cap=float(generator.uniform(1e6, 1e12)), circulating_supply=1e9,
                     logo_url=f"https://s2.coinmarketcap.com/static/img/coins/64x64/{n + 1}.png")
        for n, symbol in enumerate(symbols)
    ])  # fmt: skip
    snapshots = []
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    for symbol in symbols:
        for timeframe in TIMEFRAMES:
            close = 100 * np.exp(np.cumsum(generator.normal(0, 0.004, 400)))
            series = Series(
                np.roll(close, 1), close * 1.002, close * 0.998, close, generator.uniform(10, 1000, 400), 24
            )
            snapshots.append(Snapshot(symbol=symbol, timeframe=timeframe, open_time=now, candle_closed=False,
                                      values=snapshot_at(indicators_compute(series), -1)))  # fmt: skip
    Snapshot.objects.bulk_create(snapshots, batch_size=500)
    hour_ms, now_ms = 3_600_000, int(now.timestamp() * 1000)
    minutes = []
    for symbol in symbols:  # each of the last 24 hours' last minute: the hourly closes of the sparkline
        for hour in range(24):
            open_ms = (now_ms // hour_ms - hour) * hour_ms - 60_000
            price = f"{generator.uniform(1, 100):.4f}"
            minutes += klines_parse(symbol_id=symbol.id, source="bench", raw_rows=[
                [open_ms, price, price, price, price, "10", open_ms + 59_999, "1000", 5, "5", "500", "0"]
            ]).rows  # fmt: skip
    candles_upsert(rows=minutes)
    live_tickers_set({
        symbol.symbol: {"symbol": symbol.symbol, "event_time": now_ms, "c": "101.5", "o": "100", "h": "102",
                        "l": "99", "v": "1000", "q": "101500"} for symbol in symbols
    })  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _load(url: str, seconds: float) -> list[float]:
    import aiohttp

    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(url, headers={"Accept-Encoding": "gzip"}) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
    return latencies


async def _load_at_fixed_rate(url: str, seconds: float) -> list[float]:
    import aiohttp

    latencies: list[float] = []

    async def request(session: aiohttp.ClientSession, due: float) -> None:
        async with session.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            await response.read()
            assert response.status == 200, response.status
        latencies.append((time.perf_counter() - due) * 1000)

    # Each request is started when it is due, not created ahead: thousands of waiting tasks would slow the clients'
    # own loop, and their delay would be counted as the server's.
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        requests, started = set(), time.perf_counter()
        for n in range(int(seconds * FIXED_RATE_PER_SECOND)):
            due = started + n / FIXED_RATE_PER_SECOND
            await asyncio.sleep(due - time.perf_counter())
            task = asyncio.create_task(request(session, due))
            requests.add(task)
            task.add_done_callback(requests.discard)
        await asyncio.gather(*requests)
    return latencies


def _clients(url: str, seconds: float, fixed_rate: bool, results: multiprocessing.Queue) -> None:
    results.put(asyncio.run((_load_at_fixed_rate if fixed_rate else _load)(url, seconds)))


def _measure(url: str, *, fixed_rate: bool = False) -> list[float]:
    """The clients in a process of their own, as they would be on other machines."""
    results: multiprocessing.Queue = multiprocessing.Queue()
    for seconds in (WARM_UP_SECONDS, SECONDS):  # the last run counts
        process = multiprocessing.Process(target=_clients, args=(url, seconds, fixed_rate, results))
        process.start()
        latencies = results.get()
        process.join()
    return latencies


def _percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100))


def _body_bytes(url: str) -> int:
    """The gzipped body's size, once the server answers."""
    import httpx

    deadline = time.monotonic() + 120  # daphne on a loaded 2-core machine
    while time.monotonic() < deadline:
        try:
            with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}, timeout=5) as response:
                if response.status_code == 200:
                    return sum(len(chunk) for chunk in response.iter_raw())
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server never answered {url}")


def main() -> None:
    from bench.common import bench_database, write_result

    bench_database()
    _market()
    from django.conf import settings

    port = _free_port()
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "bench.server_settings", "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SECRET_KEY": "bench-only",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "API_THROTTLE_ANON": "1000000/minute", "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    log = Path(tempfile.gettempdir()) / "bench-screener-server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT, env=environment, stdout=output, stderr=output,
        )  # fmt: skip
    try:
        measured, body_bytes = {}, {}
        for name, path in PATHS.items():
            url = f"http://127.0.0.1:{port}{path}"
            body_bytes[name] = _body_bytes(url)
            measured[name] = _measure(url)
        screener_url = f"http://127.0.0.1:{port}{PATHS['screener']}"
        rounds = [measured["screener"], *(_measure(screener_url) for _ in range(ROUNDS - 1))]
        at_fixed_rate = _measure(screener_url, fixed_rate=True)
    finally:
        server.terminate()
        server.wait(timeout=20)
    screener, baseline = measured["screener"], measured["orm_per_request"]
    rates = {name: len(latencies) / SECONDS for name, latencies in measured.items()}
    p99_per_round = [round(_percentile(latencies, 0.99), 1) for latencies in rounds]
    write_result(
        name="screener",
        unit="ms",
        value=max(p99_per_round),
        better="lower",
        baselines={"orm_per_request": round(_percentile(baseline, 0.99), 1)},
        params={
            "symbols": SYMBOLS,
            "clients": CLIENTS,
            "seconds": SECONDS,
            "rounds": ROUNDS,
            "timeframes": TIMEFRAMES,
            "path": PATHS["screener"],
            "server": "daphne, production settings, Redis cache",
        },
        extra={
            "p99_ms_per_round": p99_per_round,
            "p50_ms_per_round": [round(_percentile(latencies, 0.50), 1) for latencies in rounds],
            "requests_per_second_per_round": [round(len(latencies) / SECONDS, 1) for latencies in rounds],
            "at_fixed_rate": {
                "requests_per_second": FIXED_RATE_PER_SECOND,
                "p50_ms": round(_percentile(at_fixed_rate, 0.50), 1),
                "p99_ms": round(_percentile(at_fixed_rate, 0.99), 1),
                "max_ms": round(max(at_fixed_rate), 1),
            },
            "p50_ms": round(_percentile(screener, 0.50), 1),
            "p95_ms": round(_percentile(screener, 0.95), 1),
            "requests_per_second": round(rates["screener"], 1),
            "orm_per_request_p50_ms": round(_percentile(baseline, 0.50), 1),
            "orm_per_request_requests_per_second": round(rates["orm_per_request"], 1),
            "requests_per_second_ratio": round(rates["screener"] / rates["orm_per_request"], 2),
            "every_row": {
                "p50_ms": round(_percentile(measured["screener_every_row"], 0.50), 1),
                "p99_ms": round(_percentile(measured["screener_every_row"], 0.99), 1),
                "requests_per_second": round(rates["screener_every_row"], 1),
            },
            "body_bytes_gzip": body_bytes,
            "targets": {"p99_ms": "< 50", "requests_per_second_ratio": ">= 10"},
        },
    )


if __name__ == "__main__":
    main()
