"""`stream_ingest`: Binance kline messages per second through the streamer's parse, validate and batched store,
against `json.loads` plus one ORM save per message (`orm_per_message`), same messages, same run."""

import json
import statistics
import time
from datetime import UTC, datetime

from bench.common import bench_database, write_result

SYMBOLS = 200
MINUTES = 500  # 100,000 closed klines a round
FLUSH_EVERY = 20_000  # about what arrives between two one-second flushes at the rate measured
BASELINE_MESSAGES = 5_000
ROUNDS = 3


def _messages(symbols: dict[str, int]) -> list[str]:
    from fakes.binance_stream import kline_event
    from fakes.recorded import archive_1m

    rows = archive_1m()
    return [
        json.dumps({"stream": f"{name.lower()}@kline_1m", "data": kline_event(name, rows[minute], closed=True)})
        for minute in range(MINUTES)
        for name in symbols
    ]


def _ours(messages: list[str], symbols: dict[str, int]) -> float:
    from apps.market.services.candles import candles_upsert
    from apps.market.services.stream_ingest import StreamIngest

    ingest = StreamIngest(symbols)
    started = time.perf_counter()
    for start in range(0, len(messages), FLUSH_EVERY):
        for text in messages[start : start + FLUSH_EVERY]:
            ingest.ingest(text)
        candles_upsert(rows=list(ingest.take_batch().candles.values()))
    return len(messages) / (time.perf_counter() - started)


def _orm_per_message(messages: list[str], symbols: dict[str, int]) -> float:
    """One model instance saved per message, its values made the stored integers by the writer's Python rule."""
    from apps.market import candle_values
    from apps.market.models import Candle
    from apps.market.services.candles import STORED_COLUMNS, grid_places

    places = grid_places(set(symbols.values()))
    started = time.perf_counter()
    for text in messages:
        kline = json.loads(text)["data"]["k"]
        symbol_id = symbols[kline["s"]]
        values = (kline["o"], kline["h"], kline["l"], kline["c"], kline["v"], kline["q"], kline["n"], kline["V"],
                  kline["Q"])  # fmt: skip
        tick_places, step_places = places[symbol_id]
        stored = candle_values.stored_row(values, tick_places=tick_places, step_places=step_places)
        Candle(symbol_id=symbol_id, open_time=datetime.fromtimestamp(kline["t"] / 1000, UTC),
               **dict(zip(STORED_COLUMNS, stored, strict=True))).save()  # fmt: skip
    return len(messages) / (time.perf_counter() - started)


def _empty_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE market_candle, market_hourlycandle")


def main() -> None:
    bench_database()
    from apps.market.models import Symbol

    symbols = {
        f"STREAM{n}USDT": Symbol.objects.get_or_create(
            symbol=f"STREAM{n}USDT",
            defaults={"base_asset": f"STREAM{n}", "quote_asset": "USDT", "status": "TRADING", "tick_size": "0.01",
                      "step_size": "0.001"},
        )[0].id
        for n in range(SYMBOLS)
    }  # fmt: skip
    messages = _messages(symbols)
    ours, baseline = [], []
    for _ in range(ROUNDS):
        _empty_tables()
        ours.append(_ours(messages, symbols))
        _empty_tables()
        baseline.append(_orm_per_message(messages[:BASELINE_MESSAGES], symbols))
    write_result(
        name="stream_ingest",
        unit="messages/s",
        value=round(statistics.median(ours)),
        better="higher",
        baselines={"orm_per_message": round(statistics.median(baseline))},
        params={
            "messages_per_round": len(messages),
            "symbols": SYMBOLS,
            "flush_every": FLUSH_EVERY,
            "baseline_messages": BASELINE_MESSAGES,
            "rounds": ROUNDS,
        },
        extra={"ours_rounds": [round(r) for r in ours], "orm_per_message_rounds": [round(r) for r in baseline]},
    )


if __name__ == "__main__":
    main()
