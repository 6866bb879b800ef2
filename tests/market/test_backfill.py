import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from apps.market.binance.archive import BinanceArchive
from apps.market.binance.rest import BinanceRest
from apps.market.models import Candle, ExchangeGap
from apps.market.selectors import candle_gaps_list
from apps.market.services.backfill import Sources, symbol_backfill
from apps.market.services.symbols import symbols_sync
from fakes.binance_server import FakeBinance
from fakes.market import recorded_market
from tests.conftest import RECORDED_END_MS, service_pointed_at

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

SINCE = datetime(2020, 1, 1, tzinfo=UTC)
UNTIL = datetime.fromtimestamp(RECORDED_END_MS / 1000, UTC)


def _stored_as_binance_rows() -> list[tuple]:
    rows = []
    for c in Candle.objects.order_by("open_time"):
        values = c.decimals()
        rows.append((int(c.open_time.timestamp() * 1000),
                     *(str(values[v].normalize()) for v in ("open", "high", "low", "close", "volume", "quote_volume")),
                     c.trades, str(values["taker_buy_volume"].normalize()),
                     str(values["taker_buy_quote_volume"].normalize())))  # fmt: skip
    return rows


def _as_expected(truth: list[list]) -> list[tuple]:
    from decimal import Decimal

    def text(value: str) -> str:
        return str(Decimal(value).normalize())

    return [(int(r[0]), *(text(v) for v in (r[1], r[2], r[3], r[4], r[5], r[7])), int(r[8]), text(r[9]), text(r[10]))
            for r in truth]  # fmt: skip


@pytest.fixture
def btc(rest):
    return next(symbol for symbol in symbols_sync(rest=rest) if symbol.symbol == "BTCUSDT")


def _klines_requests(exchange) -> list:
    return [request for request in exchange.requests if request.path == "/api/v3/klines"]


def test_it_backfills_every_candle_exactly_from_rest(btc, rest, btc_truth):
    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))

    assert _stored_as_binance_rows() == _as_expected(btc_truth)


def test_it_takes_whole_past_days_from_the_archive_instead_of_rest(btc, sources, exchange, btc_truth):
    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=sources)

    assert _stored_as_binance_rows() == _as_expected(btc_truth)
    assert [r.params.get("startTime") for r in _klines_requests(exchange)] == ["0"], "only the listing probe"


def test_a_resumed_backfill_leaves_no_gap_and_no_duplicate(btc, rest, exchange, btc_truth):
    covered: list[int] = []

    def interrupt_after_two_pages(minutes: int) -> None:
        covered.append(minutes)
        if len(covered) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        symbol_backfill(
            symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest), progress=interrupt_after_two_pages
        )
    assert Candle.objects.count() == 2000
    requests_before = len(_klines_requests(exchange))

    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))

    assert _stored_as_binance_rows() == _as_expected(btc_truth)
    resumed_from = _klines_requests(exchange)[requests_before].params["startTime"]
    assert int(resumed_from) == int(btc_truth[2000][0]), "it resumed after the last stored candle"


def test_a_complete_range_sends_no_request(btc, rest, exchange):
    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))
    requests_before = len(exchange.requests)

    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))

    assert len(exchange.requests) == requests_before


def test_a_range_starting_within_a_minute_leaves_no_gap_and_records_none(btc, sources, btc_truth):
    # The scheduled backfills reach back from "now", seconds and all.
    within_a_minute = timedelta(seconds=24, microseconds=674497)

    symbol_backfill(symbol=btc, since=SINCE + within_a_minute, until=UNTIL + within_a_minute, sources=sources)

    assert _stored_as_binance_rows() == _as_expected(btc_truth)
    assert not ExchangeGap.objects.exists()


def test_a_symbol_listed_after_since_starts_at_its_first_candle(btc, rest):
    symbol_backfill(symbol=btc, since=SINCE - timedelta(days=30), until=UNTIL, sources=Sources(rest=rest))

    btc.refresh_from_db()
    assert btc.listed_at == SINCE
    assert candle_gaps_list(symbol=btc, start=btc.history_start(SINCE - timedelta(days=30)), end=UNTIL) == []


def test_minutes_the_exchange_never_had_are_remembered_and_not_refetched(btc, rest, market, exchange):
    maintenance = (datetime(2020, 1, 2, 3, 0, tzinfo=UTC), datetime(2020, 1, 2, 4, 30, tzinfo=UTC))
    market.cut("BTCUSDT", *(int(moment.timestamp() * 1000) for moment in maintenance))

    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))
    requests_before = len(exchange.requests)
    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))

    assert list(ExchangeGap.objects.values_list("start", "end")) == [maintenance]
    assert len(exchange.requests) == requests_before
    assert Candle.objects.count() == 3 * 1440 - 90


def test_gap_detection_finds_exactly_the_holes_cut_into_the_data(btc, rest):
    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))
    holes = [
        (datetime(2020, 1, 1, 0, 0, tzinfo=UTC), datetime(2020, 1, 1, 0, 1, tzinfo=UTC)),
        (datetime(2020, 1, 1, 12, 5, tzinfo=UTC), datetime(2020, 1, 1, 13, 0, tzinfo=UTC)),
        (datetime(2020, 1, 2, 23, 59, tzinfo=UTC), datetime(2020, 1, 3, 0, 2, tzinfo=UTC)),
        (datetime(2020, 1, 3, 23, 0, tzinfo=UTC), UNTIL),
    ]
    for start, end in holes:
        Candle.objects.filter(symbol=btc, open_time__gte=start, open_time__lt=end).delete()

    assert candle_gaps_list(symbol=btc, start=SINCE, end=UNTIL) == holes


def test_fill_gaps_fetches_only_the_missing_ranges(btc, rest, exchange, btc_truth):
    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))
    hole = (datetime(2020, 1, 2, 10, 0, tzinfo=UTC), datetime(2020, 1, 2, 10, 30, tzinfo=UTC))
    Candle.objects.filter(symbol=btc, open_time__gte=hole[0], open_time__lt=hole[1]).delete()
    requests_before = len(_klines_requests(exchange))

    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))

    refill = _klines_requests(exchange)[requests_before:]
    assert [(int(r.params["startTime"]), int(r.params["endTime"])) for r in refill] == [
        (int(hole[0].timestamp() * 1000), int(hole[1].timestamp() * 1000) - 1)
    ]
    assert _stored_as_binance_rows() == _as_expected(btc_truth)


def test_bad_rows_from_the_exchange_are_rejected_and_the_rest_stored(btc, rest, market):
    market.candles("BTCUSDT")[10][2] = "1.00"  # high below low
    market.candles("BTCUSDT")[20][5] = "-3"  # negative volume

    report = symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))

    assert report.rejected == 2
    assert Candle.objects.count() == 3 * 1440 - 2
    assert not ExchangeGap.objects.exists(), "a rejected row is bad data, not a gap in the exchange's history"


def test_it_reads_archive_files_from_2025_on_with_microsecond_timestamps(budget):
    market = recorded_market(clock=lambda: 1737331200000, symbols=("SOLUSDT",))  # 2025-01-20
    truth = market.candles("SOLUSDT")
    since = datetime(2025, 1, 6, tzinfo=UTC)
    with (
        FakeBinance(market) as exchange,
        BinanceRest(base_url=exchange.rest_url, budget=budget, sleep=lambda s: None) as rest,
    ):
        sol = next(symbol for symbol in symbols_sync(rest=rest) if symbol.symbol == "SOLUSDT")
        archive = BinanceArchive(base_url=exchange.archive_url)

        symbol_backfill(symbol=sol, since=since, until=since + timedelta(days=3), sources=Sources(rest, archive))

    assert _stored_as_binance_rows() == _as_expected(truth[: 3 * 1440])
    archive_paths = [r.path for r in exchange.requests if r.path.startswith("/data/")]
    assert archive_paths[0].endswith("SOLUSDT-1m-2025-01-06.zip")
    assert [r.params.get("startTime") for r in _klines_requests(exchange)] == ["0"]


def test_the_backfill_command_reports_each_symbol(btc, exchange, settings):
    service_pointed_at(exchange, settings)
    output = io.StringIO()

    call_command("backfill", symbols=["BTCUSDT"], since=SINCE, until=UNTIL, stdout=output)

    assert output.getvalue().strip() == "BTCUSDT: 4320 stored, 0 rejected, 0 exchange gap(s)"
    assert Candle.objects.count() == 3 * 1440


def test_the_gaps_command_lists_missing_ranges(btc, rest):
    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest=rest))
    Candle.objects.filter(
        symbol=btc, open_time__gte=SINCE + timedelta(hours=1), open_time__lt=SINCE + timedelta(hours=2)
    ).delete()
    output = io.StringIO()

    call_command("gaps", symbols=["BTCUSDT"], until=UNTIL, stdout=output)

    assert output.getvalue().splitlines() == [
        "BTCUSDT: 1 gap(s), 60 missing minute(s)",
        "  2020-01-01 01:00 .. 2020-01-01 02:00  (60 min)",
    ]


def test_commands_refuse_unknown_symbols_and_reversed_ranges(btc):
    with pytest.raises(CommandError, match="unknown symbol\\(s\\): NOPEUSDT"):
        call_command("gaps", symbols=["NOPEUSDT"])
    with pytest.raises(CommandError, match="is not before --until"):
        call_command("backfill", since=UNTIL, until=SINCE)


def test_an_unreachable_archive_falls_back_to_rest(btc, rest, btc_truth):
    unreachable = BinanceArchive(base_url="http://127.0.0.1:9")

    symbol_backfill(symbol=btc, since=SINCE, until=UNTIL, sources=Sources(rest, unreachable))

    assert _stored_as_binance_rows() == _as_expected(btc_truth)


def _january_2020(btc_truth: list[list]) -> list[list]:
    """A whole month of valid 1m candles: the three recorded days laid end to end."""
    day_ms = 86_400_000
    return [[row[0] + block * 3 * day_ms, *row[1:6], row[6] + block * 3 * day_ms, *row[7:]]
            for block in range(11) for row in btc_truth if row[0] + block * 3 * day_ms < 1580515200000]  # fmt: skip


@pytest.fixture
def january(btc_truth, market):
    market.add_symbol(market.symbols["BTCUSDT"], _january_2020(btc_truth))
    market.clock = lambda: 1580515200000 + 86_400_000  # 2020-02-02
    return market.candles("BTCUSDT")


def _archive_requests(exchange) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in exchange.requests if r.path.endswith(".zip")]


def test_a_whole_past_month_comes_from_its_monthly_archive_file(btc, sources, exchange, january):
    symbol_backfill(symbol=btc, since=SINCE, until=datetime(2020, 2, 1, tzinfo=UTC), sources=sources)

    assert Candle.objects.count() == len(january) == 31 * 1440
    assert _archive_requests(exchange) == ["BTCUSDT-1m-2020-01.zip"]


def test_a_month_not_yet_published_comes_from_its_daily_files(btc, sources, exchange, january):
    exchange.unpublished.add("BTCUSDT-1m-2020-01.zip")

    symbol_backfill(symbol=btc, since=SINCE, until=datetime(2020, 2, 1, tzinfo=UTC), sources=sources)

    assert Candle.objects.count() == 31 * 1440
    assert _archive_requests(exchange)[1:] == [f"BTCUSDT-1m-2020-01-{day:02d}.zip" for day in range(1, 32)]
    assert [r.params.get("startTime") for r in _klines_requests(exchange)] == ["0"]
