"""The fake's data.binance.vision side: daily and monthly 1m zips with CHECKSUMs, Binance's own bytes where we hold
them, microseconds from 2025 on, S3's NoSuchKey for a file that does not exist."""

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator

import httpx
import pytest

from fakes.binance_server import FakeBinance
from fakes.market import MINUTE_MS, FakeMarket, FakeSymbol, recorded_market
from fakes.recorded import ARCHIVE, archive_1m

FEB_2_2020_MS = 1580601600000
JAN_20_2025_MS = 1737331200000
DAILY = "/data/spot/daily/klines/BTCUSDT/1m"
MONTHLY = "/data/spot/monthly/klines/BTCUSDT/1m"


@pytest.fixture
def btc_market() -> FakeMarket:
    market = FakeMarket(clock=lambda: FEB_2_2020_MS)
    market.add_symbol(FakeSymbol("BTCUSDT", "BTC", "USDT"), archive_1m("BTCUSDT"))
    return market


@pytest.fixture
def fake(btc_market) -> Iterator[FakeBinance]:
    with FakeBinance(btc_market) as fake:
        yield fake


@pytest.fixture
def archive(fake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.archive_url) as client:
        yield client


def csv_rows(zipped: bytes) -> tuple[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        (member,) = archive.namelist()
        return member, list(csv.reader(io.StringIO(archive.read(member).decode())))


def test_a_recorded_day_is_served_as_binances_own_bytes_with_its_checksum(archive):
    name = "BTCUSDT-1m-2020-01-02.zip"

    zipped = archive.get(f"{DAILY}/{name}")
    checksum = archive.get(f"{DAILY}/{name}.CHECKSUM")

    assert zipped.content == (ARCHIVE / name).read_bytes()
    assert checksum.content == (ARCHIVE / f"{name}.CHECKSUM").read_bytes()
    assert checksum.text == f"{hashlib.sha256(zipped.content).hexdigest()}  {name}"


def test_a_day_with_a_gap_is_built_from_the_market_and_lacks_the_gap(archive, btc_market):
    day_ms = 1577923200000  # 2020-01-02
    btc_market.cut("BTCUSDT", day_ms + 60 * MINUTE_MS, day_ms + 90 * MINUTE_MS)

    zipped = archive.get(f"{DAILY}/BTCUSDT-1m-2020-01-02.zip").content

    member, rows = csv_rows(zipped)
    assert member == "BTCUSDT-1m-2020-01-02.csv"
    day = btc_market.between("BTCUSDT", day_ms, day_ms + 1439 * MINUTE_MS)
    assert rows == [[str(value) for value in row] for row in day]
    assert len(rows) == 1440 - 30
    checksum = archive.get(f"{DAILY}/BTCUSDT-1m-2020-01-02.zip.CHECKSUM").text
    assert checksum == f"{hashlib.sha256(zipped).hexdigest()}  BTCUSDT-1m-2020-01-02.zip"


def test_a_checksum_is_of_the_zip_just_served_though_the_market_changed_since(archive, btc_market):
    day_ms = 1577923200000  # 2020-01-02
    zipped = archive.get(f"{DAILY}/BTCUSDT-1m-2020-01-02.zip").content
    btc_market.cut("BTCUSDT", day_ms + 60 * MINUTE_MS, day_ms + 90 * MINUTE_MS)

    checksum = archive.get(f"{DAILY}/BTCUSDT-1m-2020-01-02.zip.CHECKSUM").text

    assert checksum == f"{hashlib.sha256(zipped).hexdigest()}  BTCUSDT-1m-2020-01-02.zip"


def test_a_past_month_is_one_zip_of_all_its_minutes(archive):
    member, rows = csv_rows(archive.get(f"{MONTHLY}/BTCUSDT-1m-2020-01.zip").content)

    assert member == "BTCUSDT-1m-2020-01.csv"
    assert rows == [[str(value) for value in row] for row in archive_1m("BTCUSDT")]
    assert len(rows[0][0]) == 13, "milliseconds before 2025"


def test_files_from_2025_on_carry_microseconds():
    market = recorded_market(symbols=("SOLUSDT",), clock=lambda: JAN_20_2025_MS)
    with FakeBinance(market) as fake:
        zipped = httpx.get(f"{fake.archive_url}/data/spot/daily/klines/SOLUSDT/1m/SOLUSDT-1m-2025-01-06.zip").content

    member, rows = csv_rows(zipped)
    truth = market.candles("SOLUSDT")[:1440]
    assert member == "SOLUSDT-1m-2025-01-06.csv"
    assert rows[0][:2] == ["1736121600000000", truth[0][1]]
    assert rows[0][6] == "1736121659999999"
    assert [row[1:6] + row[7:] for row in rows] == [[*row[1:6], *map(str, row[7:])] for row in truth]


@pytest.mark.parametrize(
    "path",
    [
        f"{DAILY}/BTCUSDT-1m-2020-01-04.zip",  # no candle that day
        f"{DAILY}/BTCUSDT-1m-2020-02-01.zip.CHECKSUM",
        f"{DAILY}/BTCUSDT-1m-2020-02-02.zip",  # today: not complete yet
        f"{MONTHLY}/BTCUSDT-1m-2020-02.zip",
        f"{MONTHLY}/BTCUSDT-1m-2020-01-02.zip",  # a daily name in the monthly folder
        f"{DAILY}/ETHUSDT-1m-2020-01-02.zip",
        "/data/spot/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2020-01-02.zip",
        f"{DAILY}/BTCUSDT-1m-2020-02-30.zip",
        f"{DAILY}/BTCUSDT-1m-2020-01-02.csv",
    ],
)
def test_a_file_binance_does_not_have_is_s3s_no_such_key(archive, path):
    response = archive.get(path)

    assert response.status_code == 404
    assert "<Error><Code>NoSuchKey</Code>" in response.text


def test_an_unpublished_file_is_missing_with_its_checksum(archive, fake):
    fake.unpublished.add("BTCUSDT-1m-2020-01.zip")

    assert archive.get(f"{MONTHLY}/BTCUSDT-1m-2020-01.zip").status_code == 404
    assert archive.get(f"{MONTHLY}/BTCUSDT-1m-2020-01.zip.CHECKSUM").status_code == 404
    assert archive.get(f"{DAILY}/BTCUSDT-1m-2020-01-01.zip").status_code == 200


def test_the_archive_weighs_nothing(archive, fake):
    response = archive.get(f"{DAILY}/BTCUSDT-1m-2020-01-01.zip")

    assert "X-MBX-USED-WEIGHT-1M" not in response.headers
    assert fake.used_weight == 0
    assert [(request.path, request.status, request.weight) for request in fake.requests] == [
        (f"{DAILY}/BTCUSDT-1m-2020-01-01.zip", 200, 0)
    ]
