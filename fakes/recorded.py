"""The recorded real Binance data in fakes/data (see SOURCES.md there), as Binance's 12-column kline rows."""

import csv
import functools
import gzip
import json
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
ARCHIVE = DATA / "binance-archive"
REST = DATA / "binance-rest"
REST_SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "AVAXUSDT")


def archive_1m(symbol: str = "BTCUSDT") -> list[list]:
    """The real 1m candles of Binance's daily archive files we hold (BTCUSDT, 2020-01-01 to 2020-01-03)."""
    return [row for path in sorted(ARCHIVE.glob(f"{symbol}-1m-*.zip")) for row in _archive_rows(path)]


def _archive_rows(path: Path) -> list[list]:
    lines = _archive_csv(path.name).decode().splitlines()
    return [[int(r[0]), *r[1:6], int(r[6]), r[7], int(r[8]), *r[9:]] for r in csv.reader(lines)]


def rest_klines(symbol: str, interval: str) -> list[list]:
    """Binance's own REST klines of `symbol` at `interval`, all recorded files joined, oldest first."""
    rows: dict[int, list] = {}
    for path in sorted(REST.glob(f"{symbol}-{interval}-*.json.gz")):
        rows |= {row[0]: row for row in json.loads(gzip.decompress(path.read_bytes()))}
    return [rows[open_time] for open_time in sorted(rows)]


def original_archive_zip(name: str, csv_content: bytes) -> bytes | None:
    """Binance's own bytes of the archive zip `name`, when we hold that file and it holds exactly `csv_content`."""
    if not (ARCHIVE / name).is_file() or _archive_csv(name) != csv_content:
        return None
    return (ARCHIVE / name).read_bytes()


@functools.cache
def _archive_csv(name: str) -> bytes:
    with zipfile.ZipFile(ARCHIVE / name) as zipped:
        return zipped.read(zipped.namelist()[0])
