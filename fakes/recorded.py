"""The recorded real Binance data in fakes/data (see SOURCES.md there), as Binance's 12-column kline rows."""

import csv
import gzip
import io
import json
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
ARCHIVE = DATA / "binance-archive"
REST = DATA / "binance-rest"
REST_SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT")


def _archive_rows(path: Path) -> list[list]:
    with zipfile.ZipFile(path) as zipped, zipped.open(zipped.namelist()[0]) as raw:
        rows = list(csv.reader(io.TextIOWrapper(raw, encoding="utf-8")))
    return [[int(r[0]), *r[1:6], int(r[6]), r[7], int(r[8]), r[9], r[10], r[11]] for r in rows if r[0].isdigit()]


def archive_1m(symbol: str = "BTCUSDT") -> list[list]:
    """The real 1m candles of Binance's daily archive files we hold (BTCUSDT, 2020-01-01 to 2020-01-03)."""
    return [row for path in sorted(ARCHIVE.glob(f"{symbol}-1m-*.zip")) for row in _archive_rows(path)]


def archive_file(name: str) -> bytes | None:
    """The original bytes of an archive file (zip or CHECKSUM) we hold, byte-identical to Binance's."""
    path = ARCHIVE / name
    return path.read_bytes() if path.is_file() else None


def rest_klines(symbol: str, interval: str) -> list[list]:
    """Binance's own REST klines of `symbol` at `interval`, all recorded files joined, oldest first."""
    rows: dict[int, list] = {}
    for path in sorted(REST.glob(f"{symbol}-{interval}-*.json.gz")):
        for row in json.loads(gzip.decompress(path.read_bytes())):
            rows[row[0]] = row
    return [rows[open_time] for open_time in sorted(rows)]
