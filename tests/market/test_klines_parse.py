import time

from apps.market.klines import klines_parse

GOOD = [1577836800000, "7195.24", "7196.25", "7183.14", "7186.68", "51.642812", 1577836859999, "371233.1",
        493, "19.5", "140000.1", "0"]  # fmt: skip


def _with(index: int, value: object) -> list:
    row = list(GOOD)
    row[index] = value
    return row


def _reasons(*rows: list) -> list[str]:
    return [rejected.reason for rejected in klines_parse(symbol_id=1, raw_rows=rows, source="test").rejected]


def test_it_turns_a_binance_kline_into_a_candle_row_keeping_the_decimal_text():
    parsed = klines_parse(symbol_id=7, raw_rows=[GOOD], source="test")

    assert parsed.rows == [(7, 1577836800000, "7195.24", "7196.25", "7183.14", "7186.68", "51.642812", "371233.1",
                            493, "19.5", "140000.1")]  # fmt: skip
    assert parsed.rejected == []


def test_it_reads_archive_microsecond_timestamps_as_milliseconds():
    row = _with(0, str(1735689600000 * 1000))

    assert klines_parse(symbol_id=1, raw_rows=[row], source="test").rows[0][1] == 1735689600000


def test_it_rejects_a_non_numeric_price():
    assert _reasons(_with(4, "abc")) == ["close is not a number: 'abc'"]


def test_it_rejects_high_below_low():
    assert _reasons(_with(2, "7000.00")) == ["high 7000.0 is below low 7183.14"]


def test_it_rejects_a_negative_volume():
    assert _reasons(_with(5, "-1")) == ["volume is negative: '-1'"]


def test_it_rejects_non_finite_numbers():
    reasons = _reasons(_with(1, "NaN"), _with(5, "Infinity"))

    assert reasons == ["open is not finite: 'NaN'", "volume is not finite: 'Infinity'"]


def test_it_rejects_an_open_time_off_the_minute():
    assert _reasons(_with(0, 1577836800001)) == ["open time 1577836800001 is not on a minute boundary"]


def test_it_rejects_a_candle_that_opens_after_the_current_minute():
    year_3000_ms = 32503680000000

    assert _reasons(_with(0, year_3000_ms)) == [
        f"open time {year_3000_ms} is after the current minute: a candle cannot open in the future"
    ]


def test_it_accepts_the_candle_of_the_current_minute():
    current_minute_ms = int(time.time()) // 60 * 60_000

    assert klines_parse(symbol_id=1, raw_rows=[_with(0, current_minute_ms)], source="test").rows[0][1] == (
        current_minute_ms
    )


def test_it_rejects_an_open_time_before_any_crypto_market_saying_so():
    assert _reasons(_with(0, 0)) == ["open time 0 is before 2009-01-03, when the first crypto market could open"]


def test_it_rejects_a_close_outside_the_high_low_range():
    assert _reasons(_with(4, "7200.00")) == ["open 7195.24 or close 7200.0 lies outside low 7183.14 .. high 7196.25"]


def test_it_rejects_a_truncated_row():
    assert _reasons(GOOD[:5]) == [f"expected 12 kline fields, got {GOOD[:5]!r}"]


def test_it_stores_the_good_rows_of_a_batch_with_bad_ones():
    second = _with(0, 1577836860000)

    parsed = klines_parse(symbol_id=1, raw_rows=[GOOD, _with(8, "many"), second], source="test")

    assert [row[1] for row in parsed.rows] == [1577836800000, 1577836860000]
    assert len(parsed.rejected) == 1


def test_it_rejects_volumes_that_could_not_be_stored_exactly_in_64_bits():
    # A volume of 15 digits beside a taker buy volume of 8 places: together they need 23 digits at one scale.
    row = [*GOOD[:5], "123456789012345", GOOD[6], GOOD[7], GOOD[8], "0.12345678", *GOOD[10:]]

    assert _reasons(row) == ["volume and taker buy volume 123456789012345, 0.12345678 need more than 18 digits"]


def test_a_huge_volume_of_whole_units_is_accepted():
    row = [*GOOD[:5], "987654321098765", GOOD[6], GOOD[7], GOOD[8], "400000000000000", *GOOD[10:]]

    assert _reasons(row) == []
