"""The streamer's hot path on its own: order and repeats are judged per candle, never across candles."""

import json

from apps.market.services.stream_ingest import StreamIngest
from fakes.binance_stream import kline_event
from fakes.recorded import archive_1m

ROWS = archive_1m("BTCUSDT")[:3]


def _message(row: list, *, closed: bool) -> str:
    return json.dumps({"stream": "btcusdt@kline_1m", "data": kline_event("BTCUSDT", row, closed=closed)})


def _ingest(*messages: str) -> StreamIngest:
    ingest = StreamIngest({"BTCUSDT": 1})
    for text in messages:
        ingest.ingest(text)
    return ingest


def test_a_forming_update_of_an_older_candle_than_the_newest_is_dropped_as_out_of_order():
    ingest = _ingest(_message(ROWS[1], closed=False), _message(ROWS[0], closed=False))

    assert ingest.counters.dropped == {"out_of_order": 1}
    assert ingest.batch.klines["BTCUSDT"]["t"] == ROWS[1][0]


def test_a_late_close_is_stored_and_live_state_stays_on_the_newer_candle():
    ingest = _ingest(_message(ROWS[1], closed=False), _message(ROWS[0], closed=True))

    assert not ingest.counters.dropped
    assert list(ingest.batch.candles) == [(1, ROWS[0][0])]
    assert ingest.batch.klines["BTCUSDT"]["t"] == ROWS[1][0]


def test_a_second_close_of_the_same_candle_is_dropped_as_a_duplicate_whenever_it_comes():
    ingest = _ingest(_message(ROWS[0], closed=True), _message(ROWS[2], closed=True), _message(ROWS[0], closed=True))

    assert ingest.counters.dropped == {"duplicate": 1}
