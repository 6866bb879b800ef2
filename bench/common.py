"""Shared by the benchmarks: a dedicated PostgreSQL database and the result file format of DEVELOPERS.md."""

import json
import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/screener_bench"


def bench_database() -> None:
    """Set Django up on its own database (created and migrated if needed), apart from the tests' and the app's."""
    os.environ.setdefault("DATABASE_URL", BENCH_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import psycopg2

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    admin = psycopg2.connect(os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def machine_cpu_loop_seconds() -> float:
    """The best of three runs of a fixed pure-Python loop: how fast this machine is, so that figures from two
    machines (or one machine on two days) can be compared."""
    import time

    def loop() -> float:
        started = time.perf_counter()
        total = 0
        for number in range(5_000_000):
            total += number
        return time.perf_counter() - started

    return round(min(loop() for _ in range(3)), 3)


def write_result(*, name: str, unit: str, value: float, better: str, baselines: dict[str, float], params: dict,
                 extra: dict) -> None:  # fmt: skip
    def times_better(baseline: float) -> float:
        return round(value / baseline if better == "higher" else baseline / value, 2)

    result = {
        "name": name, "unit": unit, "value": value, "better": better, "baselines": baselines,
        "ratios": {key: times_better(baseline) for key, baseline in baselines.items()}, "params": params,
        "extra": {**extra, "machine_cpu_loop_seconds": machine_cpu_loop_seconds()},
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def database_drop(url: str) -> None:
    """Drop the database of `url` if it exists (connections to it are ended first)."""
    import psycopg2

    base, name = url.rsplit("/", 1)
    admin = psycopg2.connect(base + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def percentile_ms(seconds: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(seconds, q)) * 1000, 2)


# --- Synthetic Binance-like history, written through the project's writer ---------------------------------------

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
HISTORY_END_MS = 1749513600000  # 2025-06-10 00:00 UTC: a 60-day history then holds one whole archive month
_SEED = 13  # the issue that asked for realistic sizes
_EIGHT = 10**8  # Binance sends 8 decimals: every number here is an integer count of 1e-8


def _eight_decimals(units) -> list[str]:
    """Integer counts of 1e-8 as Binance's decimal text ("97012.34000000"), exact (no float on the way)."""
    import numpy as np

    whole, fraction = np.divmod(units, _EIGHT)
    return list(map("%d.%08d".__mod__, zip(whole.tolist(), fraction.tolist(), strict=True)))


def synthetic_market(index: int) -> dict:
    """Symbol `index`'s price level, tick and step sizes (as on Binance: 1e-8 .. 0.01 and 1e-5 .. 1), volatility
    and liquidity, the same on every run."""
    import numpy as np

    rng = np.random.default_rng([_SEED, index])
    log_price = rng.uniform(-5, 5)  # 0.00001 .. 100000
    level = int(np.floor(log_price))
    return {
        "price": 10**log_price,
        "tick_units": 10 ** (8 + min(max(level - 4, -8), -2)),
        "step_units": 10 ** (8 + min(max(-level, -5), 0)),
        "sigma": rng.uniform(0.0002, 0.001),  # per-minute log-return
        "quote_per_minute": 10 ** rng.uniform(2.5, 6.5),  # USDT
    }


def synthetic_symbols(*, prefix: str, count: int) -> list[int]:
    """Symbols PREFIX0USDT .. with the synthetic markets' tick and step sizes; their ids, in index order."""
    from decimal import Decimal

    from apps.market.models import Symbol

    ids = []
    for index in range(count):
        market = synthetic_market(index)
        symbol, _ = Symbol.objects.get_or_create(
            symbol=f"{prefix}{index}USDT",
            defaults={"base_asset": f"{prefix}{index}", "quote_asset": "USDT", "status": "TRADING",
                      "tick_size": Decimal(market["tick_units"]) / _EIGHT,
                      "step_size": Decimal(market["step_units"]) / _EIGHT},
        )  # fmt: skip
        ids.append(symbol.id)
    return ids


def synthetic_rows(*, symbol_id: int, index: int, start_ms: int, minutes: int, first: int = 0) -> list[tuple]:
    """Minutes [first, minutes) of symbol `index`'s series from `start_ms` as CandleRows (seeded numpy, vectorised).

    A log-normal random walk on the tick grid (open = previous close; low <= open, close <= high), log-normal volume
    on the step grid, quote volume close x volume (on the tick x step grid, as Binance's sums of price x quantity are),
    taker buy volume <= volume. The walk depends only on
    (index, start_ms), so a later `first` continues the same series exactly.
    """
    import numpy as np

    market = synthetic_market(index)
    # One stream per quantity: the first n draws of a stream do not depend on how many follow.
    rng = [np.random.default_rng([_SEED, index, start_ms // MINUTE_MS, stream]) for stream in range(6)]
    tick, step = market["tick_units"], market["step_units"]
    walk = market["price"] * np.exp(np.cumsum(rng[0].normal(0, market["sigma"], minutes + 1)))
    ticks = np.maximum(np.rint(walk * _EIGHT / tick).astype(np.int64), 1)
    open_, close = ticks[:-1], ticks[1:]
    wick = market["sigma"] * walk[1:] * _EIGHT / tick / 2
    up, down = (np.rint(np.abs(stream.normal(0, 1, minutes)) * wick).astype(np.int64) for stream in rng[1:3])
    high, low = np.maximum(open_, close) + up, np.maximum(np.minimum(open_, close) - down, 1)
    price = close * (tick / _EIGHT)
    quote = market["quote_per_minute"] * rng[3].lognormal(0, 1, minutes)
    # Capped so that volume x 1e8 stays inside int64 for the cheapest coins.
    steps = np.clip(np.rint(quote / price * _EIGHT / step), 1, 9e17 / step).astype(np.int64)
    taker_steps = np.floor(steps * rng[4].uniform(0.2, 0.8, minutes)).astype(np.int64)
    trades = 1 + np.floor(quote / (200 * rng[5].lognormal(0, 0.5, minutes))).astype(np.int64)
    part = slice(first, minutes)

    def money(count_units):
        return _eight_decimals(count_units[part])

    def quote_units(volume_steps):
        # Binance's quote volume is a sum of price x quantity: on the grid of tick x step, never finer.
        return _eight_decimals(close[part] * volume_steps[part] * (tick * step // _EIGHT))

    return list(
        zip(
            [symbol_id] * (minutes - first),
            range(start_ms + first * MINUTE_MS, start_ms + minutes * MINUTE_MS, MINUTE_MS),
            money(open_ * tick), money(high * tick), money(low * tick), money(close * tick), money(steps * step),
            quote_units(steps), trades[part].tolist(), money(taker_steps * step), quote_units(taker_steps),
            strict=True,
        )
    )  # fmt: skip


def backfill_spans(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """The [start, end) spans the backfill service stores with one candles_upsert each, `end` being now: whole
    archive months where they fit, archive days, and REST pages of 1000 minutes for the last two days that the
    archive has not published yet (apps.market.services.backfill). `start` is a midnight."""
    from apps.market.binance.rest import KLINES_MAX_LIMIT
    from apps.market.intervals import INTERVALS, datetime_from_ms

    day, spans = start_ms, []
    published_before = end_ms - 2 * DAY_MS
    while day + DAY_MS <= published_before:
        month_end = INTERVALS["1M"].next_bucket_ms(day)
        whole_month = datetime_from_ms(day).day == 1 and month_end <= published_before
        spans.append((day, month_end if whole_month else day + DAY_MS))
        day = spans[-1][1]
    page = KLINES_MAX_LIMIT * MINUTE_MS
    spans += [(start, min(start + page, end_ms)) for start in range(day, end_ms, page)]
    return spans


def history_load(*, symbol_ids: list[int], days: int, end_ms: int = HISTORY_END_MS,
                 timings: list[tuple[int, float]] | None = None, progress=None) -> int:  # fmt: skip
    """Backfill `days` of synthetic 1m candles up to `end_ms` for each symbol (index = position in `symbol_ids`),
    one symbol after the other and span by span, as the backfill service writes them. Appends (candles, seconds)
    of every writer call to `timings`; returns the candles written."""
    import time

    from apps.market.services.candles import candles_upsert

    start_ms, written = end_ms - days * DAY_MS, 0
    spans = backfill_spans(start_ms, end_ms)
    for index, symbol_id in enumerate(symbol_ids):
        rows = synthetic_rows(symbol_id=symbol_id, index=index, start_ms=start_ms, minutes=days * 1440)
        for span_start, span_end in spans:
            batch = rows[(span_start - start_ms) // MINUTE_MS : (span_end - start_ms) // MINUTE_MS]
            started = time.perf_counter()
            written += candles_upsert(rows=batch)
            if timings is not None:
                timings.append((len(batch), time.perf_counter() - started))
        if progress:
            progress(index + 1)
    return written


# The benchmarks' table of realistic size: its own database (the others empty screener_bench's candle table), loaded
# once through the writer and kept between runs (about 6 GB).
HISTORY_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/screener_bench_history"
HISTORY_PREFIX = "HIST"
HISTORY_SYMBOLS = 450
HISTORY_DAYS = 60


def history_database() -> list[int]:
    """Django on the history database, with HISTORY_SYMBOLS x HISTORY_DAYS of 1m candles up to HISTORY_END_MS
    (loaded if missing, which takes some minutes). Returns the symbols' ids, in index order."""
    import sys

    os.environ.setdefault("DATABASE_URL", HISTORY_DATABASE_URL)
    bench_database()
    from django.db import connection

    from apps.market.intervals import datetime_from_ms

    symbol_ids = synthetic_symbols(prefix=HISTORY_PREFIX, count=HISTORY_SYMBOLS)
    edges = [datetime_from_ms(HISTORY_END_MS - HISTORY_DAYS * DAY_MS), datetime_from_ms(HISTORY_END_MS - MINUTE_MS)]
    with connection.cursor() as cursor:  # every symbol's first and last minute stored: loaded in full
        cursor.execute(
            "SELECT count(*) FROM market_candle WHERE symbol_id = ANY(%s) AND open_time IN (%s, %s)",
            [symbol_ids, *edges],
        )
        if cursor.fetchone()[0] < 2 * len(symbol_ids):
            print(f"loading {HISTORY_SYMBOLS} symbols x {HISTORY_DAYS} days of 1m candles", file=sys.stderr)
            history_load(symbol_ids=symbol_ids, days=HISTORY_DAYS)
            cursor.execute("VACUUM ANALYZE market_candle, market_hourlycandle")
    return symbol_ids
