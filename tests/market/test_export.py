"""Exports of candles, indicator history and signals as CSV and Parquet, streamed in constant memory."""

import csv
import io
import json
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.indicators.models import IndicatorHistory
from apps.indicators.registry import OUTPUTS
from apps.market import exports
from apps.market.intervals import datetime_from_ms
from apps.market.services.candles import candles_upsert
from apps.strategies.models import Signal, Strategy
from tests.conftest import wait_until
from tests.market.factories import SymbolFactory
from tests.workers import ROOT, worker_environment

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

MINUTE_MS = 60_000
YEAR_MINUTES = 525_600
JAN_2023_MS = 1672531200000  # 2023-01-01 00:00 UTC
CANDLE_HEADER = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "trades",
                 "taker_buy_volume", "taker_buy_quote_volume"]  # fmt: skip

# Minute i of a synthetic series: prices wander with i, every value valid for klines_parse. Stored as the writer
# stores them: integers at a scale per group (prices in hundredths, volumes in 10**-8, quote volumes in 10**-4).
_MINUTES_SQL = """
INSERT INTO market_candle (symbol_id, open_time, open, high, low, close, volume, quote_volume, trades,
                           taker_buy_volume, taker_buy_quote_volume, price_scale, volume_scale, quote_scale)
SELECT %(symbol_id)s, TIMESTAMPTZ 'epoch' + (%(start_ms)s::bigint + i::bigint * 60000) * INTERVAL '1 millisecond',
       10000 + i %% 1000, 10005 + i %% 1000 + i %% 13, 9990 + i %% 1000, 10000 + i %% 1000 + (i %% 7 - 3),
       (i %% 97) * 12345678, (i %% 97) * 123456, i %% 500, (i %% 97) * 6000000, (i %% 97) * 61000, 2, 8, 4
FROM generate_series(0, %(count)s - 1) AS i
"""


def minutes_inserted(symbol_id: int, start_ms: int, count: int) -> None:
    """`count` 1m candles in one INSERT ... SELECT: a year in seconds (the writer's COPY and hourly roll-up would
    take far longer, and the 1m export reads only the minutes)."""
    with connection.cursor() as cursor:
        cursor.execute(_MINUTES_SQL, {"symbol_id": symbol_id, "start_ms": start_ms, "count": count})


def expected_minute(i: int) -> list[str]:
    """The CSV row of minute i of `minutes_inserted` from January 2023."""
    base = (i % 1000) * 0.01
    close = 100 + base + (i % 7 - 3) * 0.01
    volume = (i % 97) * 0.12345678
    return [str(JAN_2023_MS + i * MINUTE_MS), f"{100 + base:.8f}", f"{100.05 + base + (i % 13) * 0.01:.8f}",
            f"{99.9 + base:.8f}", f"{close:.8f}", f"{volume:.8f}", str(JAN_2023_MS + (i + 1) * MINUTE_MS - 1),
            f"{(i % 97) * 12.3456:.8f}", str(i % 500), f"{(i % 97) * 0.06:.8f}", f"{(i % 97) * 6.1:.8f}"]  # fmt: skip


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(streamed(response).decode())))


def parquet_table(response) -> pa.Table:
    return pq.read_table(pa.BufferReader(streamed(response)))


def test_a_year_of_minutes_streams_as_csv_in_bounded_memory(client):
    btc = SymbolFactory(symbol="BTCUSDT")
    minutes_inserted(btc.id, JAN_2023_MS, YEAR_MINUTES)
    # Everything imported on the first request (the URLconf's modules) is not the export's memory.
    streamed(client.get("/api/v1/export/candles/BTCUSDT.csv?start=0&end=0"))
    started = time.monotonic()
    tracemalloc.start()
    try:
        response = client.get("/api/v1/export/candles/BTCUSDT.csv?interval=1m")
        size, lines, first, last = 0, 0, b"", b""
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
            first = first if len(first) > 1000 else first + chunk
            last = chunk
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="BTCUSDT-1m.csv"'
    assert lines == 1 + YEAR_MINUTES
    head = first.decode().splitlines()
    assert head[0].split(",") == CANDLE_HEADER
    assert head[1].split(",") == expected_minute(0)
    assert last.decode().splitlines()[-1].split(",") == expected_minute(YEAR_MINUTES - 1)
    assert size > 50_000_000  # the data ...
    assert peak < 10_000_000, f"peak {peak / 1e6:.1f} MB"  # ... never held at once
    assert time.monotonic() - started < 60


# The export command in a process of its own, printing its peak resident memory (KiB) when done.
EXPORT_PEAK_MEMORY = """
import resource, sys, django
django.setup()
from django.core.management import call_command
call_command("export_candles", "BTCUSDT", sys.argv[1], "--start", sys.argv[2], stdout=sys.stderr)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def export_peak_kib(path, start: str) -> int:
    done = subprocess.run([sys.executable, "-c", EXPORT_PEAK_MEMORY, str(path), start], cwd=ROOT,
                          env=worker_environment(), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_year_as_parquet_is_written_in_the_memory_a_day_takes(tmp_path):
    btc = SymbolFactory(symbol="BTCUSDT")
    minutes_inserted(btc.id, JAN_2023_MS, YEAR_MINUTES)

    day_kib = export_peak_kib(tmp_path / "day.parquet", "2023-12-31")
    year_kib = export_peak_kib(tmp_path / "year.parquet", "2023-01-01")

    assert pq.ParquetFile(tmp_path / "year.parquet").metadata.num_rows == YEAR_MINUTES
    assert year_kib - day_kib < 20_000, f"a day: {day_kib / 1024:.0f} MB at most, a year: {year_kib / 1024:.0f} MB"


def test_a_month_as_parquet_comes_in_row_groups_with_exact_decimals(client):
    btc = SymbolFactory(symbol="BTCUSDT")
    minutes_inserted(btc.id, JAN_2023_MS, 31 * 1440)
    response = client.get(f"/api/v1/export/candles/BTCUSDT.parquet?start={JAN_2023_MS}&interval=1m")
    assert response["Content-Type"] == "application/vnd.apache.parquet"
    data = streamed(response)
    metadata = pq.ParquetFile(pa.BufferReader(data)).metadata
    assert metadata.num_rows == 31 * 1440
    assert metadata.num_row_groups == -(-31 * 1440 // exports.CHUNK_ROWS)
    table = pq.read_table(pa.BufferReader(data))
    assert table.column_names == CANDLE_HEADER
    first = table.slice(0, 1).to_pylist()[0]
    assert first["open_time"] == datetime(2023, 1, 1, tzinfo=UTC)
    assert [f"{first[name]:.8f}" for name in CANDLE_HEADER[1:6]] == expected_minute(0)[1:6]
    last = table.slice(table.num_rows - 1).to_pylist()[0]
    assert last["close_time"] == datetime(2023, 1, 31, 23, 59, 59, 999_000, tzinfo=UTC)


def test_any_interval_is_rolled_up_exactly_as_the_klines_api_does(client, btc_truth):
    btc = SymbolFactory(symbol="BTCUSDT")
    candles_upsert(rows=[(btc.id, row[0], *row[1:6], *row[7:11]) for row in btc_truth])
    for interval in ("5m", "1h", "4h", "1d", "1w", "1M"):
        klines = client.get(f"/api/v1/klines/BTCUSDT?interval={interval}&start=0&limit=1000").json()
        exported = csv_rows(client.get(f"/api/v1/export/candles/BTCUSDT.csv?interval={interval}"))
        assert exported[1:] == [[str(value) for value in kline[:11]] for kline in klines], interval


def test_start_and_end_bound_the_buckets_and_long_gaps_are_crossed(client, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 50)  # many reads, and gaps far longer than one
    btc = SymbolFactory(symbol="BTCUSDT")
    minutes_inserted(btc.id, JAN_2023_MS, 120)
    minutes_inserted(btc.id, JAN_2023_MS + 10_000 * MINUTE_MS, 120)  # a week later
    start, end = JAN_2023_MS + 7 * MINUTE_MS, JAN_2023_MS + 10_100 * MINUTE_MS
    rows = csv_rows(client.get(f"/api/v1/export/candles/BTCUSDT.csv?interval=1m&start={start}&end={end}"))[1:]
    times = [int(row[0]) for row in rows]
    assert times == [JAN_2023_MS + i * MINUTE_MS for i in [*range(7, 120), *range(10_000, 10_101)]]
    # 15m buckets from the first that opens at or after start; the one holding `end` is the last
    rows = csv_rows(client.get(f"/api/v1/export/candles/BTCUSDT.csv?interval=15m&start={start}&end={end}"))[1:]
    assert [int(row[0]) for row in rows] == [
        JAN_2023_MS + i * MINUTE_MS for i in [*range(15, 120, 15), *range(9_990, 10_101, 15)]
    ]


def test_an_empty_range_is_a_header_or_an_empty_parquet_file(client):
    SymbolFactory(symbol="BTCUSDT")
    assert csv_rows(client.get("/api/v1/export/candles/BTCUSDT.csv")) == [CANDLE_HEADER]
    table = parquet_table(client.get("/api/v1/export/candles/BTCUSDT.parquet"))
    assert (table.num_rows, table.column_names) == (0, CANDLE_HEADER)


def test_bad_parameters_are_a_400_in_the_api_error_format(client):
    SymbolFactory(symbol="BTCUSDT")
    unknown = client.get("/api/v1/export/candles/NOPEUSDT.csv", HTTP_ACCEPT="text/csv")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"] == {"symbol": ["Unknown symbol 'NOPEUSDT'."]}
    backwards = client.get("/api/v1/export/candles/BTCUSDT.parquet?start=2024-02-01&end=2024-01-01")
    assert backwards.json()["error"]["fields"] == {"start": ["start is after end."]}
    assert client.get("/api/v1/export/candles/BTCUSDT.csv?interval=7m").status_code == 400


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_export_command_writes_the_apis_file(client, tmp_path, fmt):
    btc = SymbolFactory(symbol="BTCUSDT")
    minutes_inserted(btc.id, JAN_2023_MS, 2 * 1440)
    path = tmp_path / f"btc.{fmt}"
    out = io.StringIO()

    call_command("export_candles", "btcusdt", str(path), "--interval", "15m", "--start", "2023-01-01T12:00",
                 stdout=out)  # fmt: skip

    assert out.getvalue().strip() == f"BTCUSDT: 144 15m candles written to {path}"
    assert path.read_bytes() == streamed(client.get(f"/api/v1/export/candles/BTCUSDT.{fmt}?interval=15m&start="
                                                    f"{JAN_2023_MS + 720 * MINUTE_MS}"))  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_an_export_killed_half_way_leaves_the_previous_file_whole(tmp_path):
    btc = SymbolFactory(symbol="BTCUSDT")
    minutes_inserted(btc.id, JAN_2023_MS, YEAR_MINUTES)
    path = tmp_path / "btc.csv"
    path.write_text("the previous export\n")
    partial = tmp_path / ".btc.csv.partial"

    command = [sys.executable, "manage.py", "export_candles", "BTCUSDT", str(path)]
    export = subprocess.Popen(command, cwd=ROOT, env=worker_environment(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert wait_until(lambda: partial.exists() and partial.stat().st_size > 1_000_000, 60), "the export began"
    finally:
        export.kill()
        export.wait()

    assert path.read_text() == "the previous export\n"


def test_the_export_command_refuses_an_unknown_format_or_a_reversed_range(tmp_path):
    SymbolFactory(symbol="BTCUSDT")

    with pytest.raises(CommandError, match=r"name the file \.csv or \.parquet"):
        call_command("export_candles", "BTCUSDT", str(tmp_path / "btc.xlsx"))
    with pytest.raises(CommandError, match="--start 2024-02-01 00:00 is after --end 2024-01-01 00:00"):
        call_command("export_candles", "BTCUSDT", str(tmp_path / "btc.csv"), "--start", "2024-02-01", "--end",
                     "2024-01-01")  # fmt: skip
    assert not (tmp_path / "btc.csv").exists()


def test_indicator_history_exports_a_column_per_output(client):
    btc = SymbolFactory(symbol="BTCUSDT")
    for hour in range(3):
        values = {output: None for output in OUTPUTS} | {"rsi_14": 50.0 + hour, "ema_21": 100.25}
        IndicatorHistory.objects.create(
            symbol=btc, timeframe="1h", open_time=datetime_from_ms(JAN_2023_MS + hour * 3_600_000), values=values
        )
    IndicatorHistory.objects.create(symbol=btc, timeframe="4h", open_time=datetime_from_ms(JAN_2023_MS), values={})
    rows = csv_rows(client.get(f"/api/v1/export/indicators/BTCUSDT.csv?timeframe=1h&start={JAN_2023_MS + 1}"))
    assert rows[0] == ["open_time", *OUTPUTS]
    assert [(row[0], row[1 + OUTPUTS.index("rsi_14")]) for row in rows[1:]] == [
        (str(JAN_2023_MS + 3_600_000), "51.0"),
        (str(JAN_2023_MS + 7_200_000), "52.0"),
    ]
    assert rows[1][1 + OUTPUTS.index("macd")] == ""
    table = parquet_table(client.get("/api/v1/export/indicators/BTCUSDT.parquet?timeframe=1h"))
    assert table.column("rsi_14").to_pylist() == [50.0, 51.0, 52.0]
    assert table.column("ema_21").to_pylist() == [100.25] * 3


def test_signals_export_by_the_open_time_of_their_candle(client):
    btc, eth = SymbolFactory(symbol="BTCUSDT"), SymbolFactory(symbol="ETHUSDT")
    strategy = Strategy.objects.create(name="Oversold", timeframe="1h", conditions={"all": []})
    for symbol, hour in ((btc, 2), (btc, 0), (eth, 1)):
        open_time = datetime_from_ms(JAN_2023_MS + hour * 3_600_000)
        Signal.objects.create(symbol=symbol, strategy=strategy, timeframe="1h", candle_closed=True,
                              open_time=open_time, values={"rsi_14": 25.5})  # fmt: skip
    rows = csv_rows(client.get("/api/v1/export/signals/BTCUSDT.csv"))
    assert rows[0] == ["open_time", "strategy", "timeframe", "candle_closed", "values", "created_at"]
    assert [row[:5] for row in rows[1:]] == [
        [str(JAN_2023_MS), "Oversold", "1h", "True", '{"rsi_14": 25.5}'],
        [str(JAN_2023_MS + 7_200_000), "Oversold", "1h", "True", '{"rsi_14": 25.5}'],
    ]
    table = parquet_table(client.get(f"/api/v1/export/signals/BTCUSDT.parquet?end={JAN_2023_MS}"))
    assert table.to_pylist()[0]["open_time"] == datetime(2023, 1, 1, tzinfo=UTC)
    assert [json.loads(values) for values in table.column("values").to_pylist()] == [{"rsi_14": 25.5}]
