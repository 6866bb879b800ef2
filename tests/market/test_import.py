"""Import of historical candles from CSV and Parquet: the command and the symbol admin's upload, same validation as
backfill."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from apps.market.candle_values import decoded_sql
from apps.market.models import Candle, HourlyCandle, Symbol
from apps.market.services.candle_import import LINE_MAX_CHARS
from apps.market.services.candles import candles_upsert
from tests.market.factories import SymbolFactory
from tests.market.test_export import JAN_2023_MS, minutes_inserted, streamed

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

VALUES = ("open", "high", "low", "close", "volume", "quote_volume", "trades", "taker_buy_volume",
          "taker_buy_quote_volume")  # fmt: skip


def binance_csv(rows: list[list]) -> str:
    return "".join(",".join(str(value) for value in row) + "\n" for row in rows)


def written(tmp_path, content: str | bytes) -> Path:
    """A CSV file of the text, or a Parquet file of the bytes."""
    if isinstance(content, str):
        path = tmp_path / "candles.csv"
        path.write_text(content)
    else:
        path = tmp_path / "candles.parquet"
        path.write_bytes(content)
    return path


def imported(tmp_path, symbol: str, content: str | bytes, *args: str) -> tuple[str, str]:
    path = written(tmp_path, content)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_candles", symbol, str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stored(symbol) -> list[tuple]:
    candles = Candle.objects.filter(symbol=symbol).order_by("open_time")
    return [(candle.open_time, *(candle.decimals()[value] for value in VALUES)) for candle in candles]


def test_binance_kline_csv_without_header_is_stored_like_a_backfill_and_twice_changes_nothing(tmp_path, btc_truth):
    btc, eth = SymbolFactory(symbol="BTCUSDT"), SymbolFactory(symbol="ETHUSDT")
    candles_upsert(rows=[(eth.id, row[0], *row[1:6], *row[7:11]) for row in btc_truth])  # what backfill writes
    out, _ = imported(tmp_path, "btcusdt", binance_csv(btc_truth))
    assert (
        out.strip()
        == f"BTCUSDT: {len(btc_truth)} rows read; {len(btc_truth)} candles new or changed, the rest already stored"
    )
    assert stored(btc) == stored(eth)
    assert HourlyCandle.objects.filter(symbol=btc).count() == 72  # the roll-up is kept as for backfilled candles
    out, _ = imported(tmp_path, "BTCUSDT", binance_csv(btc_truth))
    assert "0 candles new or changed" in out
    assert stored(btc) == stored(eth)


def test_common_column_names_iso_times_and_missing_volumes_are_understood(tmp_path):
    btc = SymbolFactory(symbol="BTCUSDT")
    imported(tmp_path, "BTCUSDT", "Date,Open,High,Low,Close,Extra\n2024-01-01T00:00:00Z,10,12,9,11,x\n"
             "2024-01-01 00:01,11,11.5,10.5,11.25,y\n")  # fmt: skip
    assert stored(btc) == [
        (datetime(2024, 1, 1, 0, 0, tzinfo=UTC), 10, 12, 9, 11, 0, 0, 0, 0, 0),
        (datetime(2024, 1, 1, 0, 1, tzinfo=UTC), 11, 11.5, 10.5, 11.25, 0, 0, 0, 0, 0),
    ]


def test_epoch_seconds_and_an_explicit_mapping_by_name_or_number(tmp_path):
    btc, eth = SymbolFactory(symbol="BTCUSDT"), SymbolFactory(symbol="ETHUSDT")
    imported(tmp_path, "BTCUSDT", "unix,p_open,p_high,p_low,p_close,vol\n1704067200,10,12,9,11,5\n",
             "--columns", "open=p_open,high=p_high,low=p_low,close=p_close")  # fmt: skip
    imported(tmp_path, "ETHUSDT", "1704067200000;10;12;9;11;5\n".replace(";", ","),
             "--columns", "open_time=1,open=2,high=3,low=4,close=5,volume=6")  # fmt: skip
    expected = [(datetime(2024, 1, 1, tzinfo=UTC), 10, 12, 9, 11, 5, 0, 0, 0, 0)]
    assert stored(btc) == expected
    assert stored(eth) == expected


def test_one_bad_row_and_nothing_is_stored_every_bad_row_reported_with_its_line(tmp_path, btc_truth):
    btc = SymbolFactory(symbol="BTCUSDT")
    days = 3 * 86_400_000  # the recorded days again and again: past one batch, nothing of the first is kept either
    rows = [[row[0] + k * days, *row[1:]] for k in range(3) for row in btc_truth][:10_005]
    rows[6][1] = "abc"
    rows[2][2], rows[2][3] = "1", "2"  # high below low
    rows[10_003][0] = rows[10_003][0] + 30_000  # not on a minute
    text = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
    text += "taker_buy_quote_volume,ignore\n"
    text += binance_csv(rows) + "1577836800000,1,2\n"
    message, err = refused(tmp_path, "BTCUSDT", text)
    assert message == "BTCUSDT: 10006 rows read, 4 bad: nothing stored (fix them, or skip them)"
    assert stored(btc) == []
    path = tmp_path / "candles.csv"
    assert err.splitlines() == [
        f"{path}: line 4: high 1.0 is below low 2.0",
        f"{path}: line 8: open is not a number: 'abc'",
        f"{path}: line 10005: open time {rows[10_003][0]} is not on a minute boundary",
        f"{path}: line 10007: expected at least 11 columns, got 3",
    ]


def test_a_candle_dated_in_the_future_is_refused_and_never_served_as_the_latest(tmp_path, client):
    btc = SymbolFactory(symbol="BTCUSDT")

    _, err = refused(tmp_path, "BTCUSDT", "open_time,open,high,low,close\n3000-01-01T00:00:00Z,10,12,9,11\n")

    assert err.strip().endswith("line 2: open time 32503680000000 is after the current minute: a candle cannot "
                                "open in the future")  # fmt: skip
    assert stored(btc) == []
    assert client.get("/api/v1/klines/BTCUSDT", {"interval": "1m", "limit": 1}).json() == []


def refused(tmp_path, symbol: str, content: str | bytes, *args: str) -> tuple[str, str]:
    """The command's error message and what it wrote to stderr."""
    path = written(tmp_path, content)
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_candles", symbol, str(path), *args, stderr=err)
    return str(raised.value), err.getvalue()


def test_skip_bad_stores_the_good_rows(tmp_path, btc_truth):
    btc = SymbolFactory(symbol="BTCUSDT")
    rows = [list(row) for row in btc_truth[:5]]
    rows[1][4] = "-3"
    out, err = imported(tmp_path, "BTCUSDT", binance_csv(rows), "--skip-bad")
    assert out.strip() == "BTCUSDT: 5 rows read, 1 bad rows skipped; 4 candles new or changed, the rest already stored"
    assert err.strip().endswith("line 2: close is negative: '-3'")
    assert [int(time.timestamp() * 1000) for time, *_ in stored(btc)] == [rows[i][0] for i in (0, 2, 3, 4)]


def test_a_file_without_usable_columns_or_an_unknown_symbol_is_refused(tmp_path):
    SymbolFactory(symbol="BTCUSDT")
    with pytest.raises(CommandError, match="no column found for open_time"):
        imported(tmp_path, "BTCUSDT", "when,open,high,low,close\n")
    with pytest.raises(CommandError, match="unknown symbol"):
        imported(tmp_path, "NOPEUSDT", "1,2\n")


def test_a_symbol_name_with_a_nul_byte_is_refused(tmp_path, btc_truth):
    SymbolFactory(symbol="BTCUSDT")

    assert refused(tmp_path, "BTC\x00USDT", binance_csv(btc_truth[:3]))[0].startswith("unknown symbol(s): BTC")
    assert "a symbol is capitals and digits" in refused(tmp_path, "BTC\x00USDT", binance_csv(btc_truth[:3]),
                                                        "--create")[0]  # fmt: skip
    assert Symbol.objects.count() == 1


def test_a_trade_count_the_candle_cannot_hold_is_a_bad_row(tmp_path, btc_truth):
    btc = SymbolFactory(symbol="BTCUSDT")
    rows = [list(row) for row in btc_truth[:3]]
    rows[1][8] = 2**70

    _, err = refused(tmp_path, "BTCUSDT", binance_csv(rows))

    assert err.strip().endswith(f"line 2: trade count {2**70} exceeds 2147483647")
    assert stored(btc) == []


def test_a_line_longer_than_any_candle_row_is_refused_before_it_is_read_whole(tmp_path):
    SymbolFactory(symbol="BTCUSDT")
    content = "open_time,open,high,low,close\n" + "1," * 1_000_000 + "\n"

    message, _ = refused(tmp_path, "BTCUSDT", content)

    assert message.endswith(f"line 2 is longer than {LINE_MAX_CHARS} characters: not a candle CSV")


def test_a_field_over_the_csv_readers_limit_is_refused_with_its_line(tmp_path):
    SymbolFactory(symbol="BTCUSDT")
    content = 'open_time,open,high,low,close\n"' + "1\n" * 70_000 + '"\n'  # short lines, one huge quoted field

    message, _ = refused(tmp_path, "BTCUSDT", content)

    assert "field larger than field limit" in message


def differences(symbol, other) -> int:
    """Candles of one symbol that the other has not, both ways, on every value."""
    values = (value if value == "trades" else decoded_sql(value, vendor="postgresql") for value in VALUES)
    columns = f"open_time, {', '.join(values)}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM ((SELECT {columns} FROM market_candle WHERE symbol_id = %s
                EXCEPT SELECT {columns} FROM market_candle WHERE symbol_id = %s)
                UNION ALL (SELECT {columns} FROM market_candle WHERE symbol_id = %s
                EXCEPT SELECT {columns} FROM market_candle WHERE symbol_id = %s)) AS differences""",
            [symbol.id, other.id, other.id, symbol.id],
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_month_of_minutes_exported_and_imported_elsewhere_is_identical(client, tmp_path, fmt):
    btc, eth = SymbolFactory(symbol="BTCUSDT"), SymbolFactory(symbol="ETHUSDT")
    minutes_inserted(btc.id, JAN_2023_MS, 31 * 1440)
    exported = streamed(client.get(f"/api/v1/export/candles/BTCUSDT.{fmt}?interval=1m&start=2023-01-01"))

    out, _ = imported(tmp_path, "ETHUSDT", exported.decode() if fmt == "csv" else exported)

    assert "44640 rows read; 44640 candles new or changed" in out
    assert differences(btc, eth) == 0
    assert Candle.objects.filter(symbol=eth).count() == 31 * 1440


def parquet_bytes(columns: dict[str, pa.Array]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue().to_pybytes()


def test_parquet_columns_are_found_by_name_and_bad_rows_reported_by_row_number(tmp_path):
    btc = SymbolFactory(symbol="BTCUSDT")
    content = parquet_bytes({
        "Timestamp": pa.array([1704067200000, 1704067260000, 1704067320000], pa.timestamp("ms", tz="UTC")),
        "Open": pa.array([10.0, 11.0, 12.0]), "High": pa.array([12.0, 10.0, 13.0]),
        "Low": pa.array([9.0, 10.5, 11.0]), "Close": pa.array([11.0, 10.75, None]),
    })  # fmt: skip

    message, err = refused(tmp_path, "BTCUSDT", content)

    assert message == "BTCUSDT: 3 rows read, 2 bad: nothing stored (fix them, or skip them)"
    assert [line.split(": ", 1)[1] for line in err.splitlines()] == [
        "row 2: high 10.0 is below low 10.5",
        "row 3: close is not a number: ''",
    ]
    assert stored(btc) == []


def test_a_broken_parquet_file_is_refused_whole(tmp_path):
    SymbolFactory(symbol="BTCUSDT")

    with pytest.raises(CommandError, match="not a readable Parquet file"):
        imported(tmp_path, "BTCUSDT", b"PAR1 and then nothing a Parquet reader understands")


def test_create_adds_a_symbol_not_stored_yet_split_at_its_quote_asset(tmp_path, btc_truth):
    out, _ = imported(tmp_path, "BTCUSDT", binance_csv(btc_truth[:10]), "--create")

    btc = Symbol.objects.get(symbol="BTCUSDT")
    assert out.splitlines()[0] == "BTCUSDT: created (BTC/USDT)"
    assert (btc.base_asset, btc.quote_asset, btc.status, btc.is_active) == ("BTC", "USDT", "TRADING", True)
    assert len(stored(btc)) == 10


def test_create_keeps_no_symbol_for_a_refused_file(tmp_path, btc_truth):
    rows = [list(row) for row in btc_truth[:3]]
    rows[1][2] = "x"

    refused(tmp_path, "BTCUSDT", binance_csv(rows), "--create")

    assert not Symbol.objects.exists()


@pytest.mark.parametrize("name", ["BTCEUR", "USDT", "BTC-USDT", "ÄBCUSDT"])
def test_create_refuses_a_name_that_is_not_capitals_and_digits_ending_in_a_quote_asset(tmp_path, btc_truth, name):
    message, _ = refused(tmp_path, name, binance_csv(btc_truth[:3]), "--create")

    assert not Symbol.objects.exists()
    assert "ending in a quote asset of MARKET_QUOTE_ASSETS (USDT)" in message


def test_the_symbol_admin_imports_an_upload_and_shows_the_report(admin_client, btc_truth):
    btc = SymbolFactory(symbol="BTCUSDT")
    url = f"/admin/market/symbol/{btc.pk}/import-candles/"
    assert url in admin_client.get(f"/admin/market/symbol/{btc.pk}/change/").content.decode()
    rows = [list(row) for row in btc_truth[:3]]
    rows[1][2] = "x"
    upload = SimpleUploadedFile("btc.csv", binance_csv(rows).encode(), content_type="text/csv")
    page = admin_client.post(url, {"file": upload, "columns": ""}).content.decode()
    assert "3 rows read, 1 bad: nothing stored" in page
    assert "line 2: high is not a number: &#x27;x&#x27;" in page
    assert stored(btc) == []
    upload = SimpleUploadedFile("btc.csv", binance_csv(rows).encode(), content_type="text/csv")
    page = admin_client.post(url, {"file": upload, "skip_bad": "on"}).content.decode()
    assert "3 rows read, 1 bad rows skipped; 2 candles new or changed" in page
    assert len(stored(btc)) == 2
    page = admin_client.post(url, {"file": SimpleUploadedFile("x.csv", b"a,b\n"), "columns": "size=3"}).content.decode()
    assert "bad column mapping" in page


def admin_import(admin_client, symbol: Symbol, content: bytes) -> str:
    upload = SimpleUploadedFile("btc.csv", content, content_type="text/csv")
    response = admin_client.post(f"/admin/market/symbol/{symbol.pk}/import-candles/", {"file": upload})
    assert response.status_code == 200
    return response.content.decode()


def test_the_symbol_admin_refuses_a_file_over_the_upload_limit(admin_client, btc_truth, settings):
    settings.CANDLE_IMPORT_UPLOAD_MAX_BYTES = 1000
    btc = SymbolFactory(symbol="BTCUSDT")
    content = binance_csv(btc_truth[:10]).encode()

    page = admin_import(admin_client, btc, content)

    assert f"The file has {len(content):,} bytes, more than 1,000" in page
    assert stored(btc) == []


def test_the_symbol_admin_refuses_a_line_longer_than_any_candle_row(admin_client):
    btc = SymbolFactory(symbol="BTCUSDT")

    page = admin_import(admin_client, btc, b"1," * 1_000_000 + b"\n")

    assert f"line 1 is longer than {LINE_MAX_CHARS} characters" in page


def test_the_symbol_admin_reports_a_trade_count_the_candle_cannot_hold_as_a_bad_row(admin_client, btc_truth):
    btc = SymbolFactory(symbol="BTCUSDT")
    rows = [list(row) for row in btc_truth[:3]]
    rows[1][8] = 2**70

    page = admin_import(admin_client, btc, binance_csv(rows).encode())

    assert f"line 2: trade count {2**70} exceeds 2147483647" in page
    assert stored(btc) == []
