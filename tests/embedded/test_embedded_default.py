"""The embedded default (`make run`): SQLite, no Redis, tasks in-process, driven as a user would, through
manage.py in a separate process, against our fake exchange."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.recorded import rest_klines

ROOT = Path(__file__).resolve().parents[2]
PRINT_2H_KLINES = """
import json
from apps.market.intervals import INTERVALS
from apps.market.models import Symbol
from apps.market.selectors import klines_aggregate
klines = klines_aggregate(symbol=Symbol.objects.get(symbol="BTCUSDT"), interval=INTERVALS["2h"],
                          start_ms=1577836800000, end_ms=1578095999999, limit=1000)
print(json.dumps([[k.open_time, str(k.open), str(k.high), str(k.low), str(k.close), str(k.volume), k.close_time,
                   str(k.quote_volume), k.trades, str(k.taker_buy_volume), str(k.taker_buy_quote_volume)]
                  for k in klines]))
"""


@pytest.fixture
def manage(tmp_path, exchange):
    environment = {
        key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        "BINANCE_REST_URL": exchange.rest_url,
        "BINANCE_ARCHIVE_URL": exchange.archive_url,
    }

    def run(*arguments: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("migrate", "--no-input")
    run("sync_symbols")
    return run


def test_a_backfill_on_sqlite_stores_every_candle_and_leaves_no_gap(manage):
    output = manage("backfill", "--symbols", "BTCUSDT", "--since", "2020-01-01", "--until", "2020-01-04")

    assert output.strip() == "BTCUSDT: 4320 stored, 0 rejected, 0 exchange gap(s)"
    assert manage("gaps", "--symbols", "BTCUSDT", "--until", "2020-01-04").strip() == (
        "BTCUSDT: 0 gap(s), 0 missing minute(s)"
    )


def test_klines_on_sqlite_equal_binances_own_2h_candles_to_sqlites_15_digits(manage):
    manage("backfill", "--symbols", "BTCUSDT", "--since", "2020-01-01", "--until", "2020-01-04")

    klines = json.loads(manage("shell", "-c", PRINT_2H_KLINES).splitlines()[-1])

    # SQLite keeps decimals as doubles (15 significant digits); PostgreSQL's NUMERIC is exact (tests/market).
    binance = [row[:11] for row in rest_klines("BTCUSDT", "2h") if row[0] < 1578096000000]
    assert len(klines) == len(binance) == 36
    for ours, theirs in zip(klines, binance, strict=True):
        assert [float(value) for value in ours] == pytest.approx([float(value) for value in theirs], rel=1e-15)
