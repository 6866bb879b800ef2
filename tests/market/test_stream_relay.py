"""The live stream relay (/ws/stream/): the protocol through the whole ASGI stack, and two real WebSocket clients on
a real daphne, all over the real Redis channel layer."""

import asyncio
import functools
import json
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect

from apps.market import consumers
from apps.market.consumers import Outbox
from apps.market.live import TICKER, live_publish
from config.asgi import application
from fakes.binance_stream import kline_event
from tests.processes import process_group, wait_ready

ORIGIN = "http://127.0.0.1"
BTC = "kline:BTCUSDT:1m"
ETH = "kline:ETHUSDT:1m"


def in_event_loop(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Runs an async test on its own event loop (pytest-asyncio is not installed)."""

    @functools.wraps(test)
    def run(*args: object, **kwargs: object) -> None:
        async_to_sync(test)(*args, **kwargs)

    return run


@asynccontextmanager
async def stream_client(
    communicator_class: type[WebsocketCommunicator] = WebsocketCommunicator,
) -> AsyncIterator[WebsocketCommunicator]:
    client = communicator_class(application, "/ws/stream/", headers=[(b"origin", ORIGIN.encode())])
    connected, _ = await client.connect()
    assert connected
    try:
        yield client
    finally:
        await client.disconnect()


async def ask(client: WebsocketCommunicator, frame: dict) -> dict:
    await client.send_json_to(frame)
    return await client.receive_json_from()


def kline(row: list, symbol: str = "BTCUSDT") -> dict:
    """A kline as the streamer publishes it: Binance's `k` object."""
    return kline_event(symbol, row, closed=True)["k"]


def tickers(row: list) -> dict:
    """Tickers as the streamer publishes them: the latest of each symbol."""
    return {"BTCUSDT": {"symbol": "BTCUSDT", "event_time": row[6] + 1, "c": row[4], "o": row[1], "h": row[2],
                        "l": row[3], "v": row[5], "q": row[7]}}  # fmt: skip


def update(stream: str, data: object) -> dict:
    return {"type": "update", "stream": stream, "data": data}


@in_event_loop
async def test_a_subscriber_gets_the_updates_of_its_streams_and_no_others(btc_truth):
    async with stream_client() as btc_client, stream_client() as ticker_client:
        assert await ask(btc_client, {"action": "subscribe", "streams": [BTC]}) == {
            "type": "subscribed",
            "streams": [BTC],
        }
        assert await ask(ticker_client, {"action": "subscribe", "streams": [TICKER]}) == {
            "type": "subscribed",
            "streams": [TICKER],
        }

        await live_publish(BTC, kline(btc_truth[0]))
        await live_publish(TICKER, tickers(btc_truth[0]))

        assert await btc_client.receive_json_from() == update(BTC, kline(btc_truth[0]))
        assert await ticker_client.receive_json_from() == update(TICKER, tickers(btc_truth[0]))
        assert await btc_client.receive_nothing(timeout=0.3)
        assert await ticker_client.receive_nothing(timeout=0.3)


@in_event_loop
async def test_unsubscribing_stops_the_updates(btc_truth):
    async with stream_client() as client:
        await ask(client, {"action": "subscribe", "streams": [BTC, TICKER]})
        await live_publish(BTC, kline(btc_truth[0]))
        assert await client.receive_json_from() == update(BTC, kline(btc_truth[0]))

        assert await ask(client, {"action": "unsubscribe", "streams": [BTC]}) == {
            "type": "unsubscribed",
            "streams": [BTC],
        }
        await live_publish(BTC, kline(btc_truth[1]))
        await live_publish(TICKER, tickers(btc_truth[1]))

        assert await client.receive_json_from() == update(TICKER, tickers(btc_truth[1]))
        assert await client.receive_nothing(timeout=0.3)


@in_event_loop
async def test_subscribing_twice_delivers_each_update_once(btc_truth):
    async with stream_client() as client:
        assert await ask(client, {"action": "subscribe", "streams": [BTC, BTC]}) == {
            "type": "subscribed",
            "streams": [BTC],
        }
        await ask(client, {"action": "subscribe", "streams": [BTC]})

        await live_publish(BTC, kline(btc_truth[0]))

        assert await client.receive_json_from() == update(BTC, kline(btc_truth[0]))
        assert await client.receive_nothing(timeout=0.3)
        assert await ask(client, {"action": "list"}) == {"type": "subscriptions", "streams": [BTC], "dropped": 0}


JUNK = {
    "not JSON": ("hello", "not JSON"),
    "nested too deep": ("[" * 10_000, "not JSON"),
    "not an object": ('["subscribe", "ticker"]', "a frame is a JSON object"),
    "no action": ('{"streams": ["ticker"]}', "unknown action None"),
    "unknown action": ('{"action": "subscribe_all"}', "unknown action 'subscribe_all'"),
    "streams not a list": ('{"action": "subscribe", "streams": "ticker"}', "'streams' must be a list"),
    "unknown stream among good ones": ('{"action": "subscribe", "streams": ["ticker", "candles"]}', "'candles'"),
    "lower-case symbol": ('{"action": "subscribe", "streams": ["kline:btcusdt:1m"]}', "'kline:btcusdt:1m'"),
    "interval not streamed": ('{"action": "subscribe", "streams": ["kline:BTCUSDT:1h"]}', "'1h' is not streamed"),
    "stream name not a string": ('{"action": "unsubscribe", "streams": [7]}', "unknown stream 7"),
}


@pytest.mark.parametrize(("text", "message"), JUNK.values(), ids=JUNK.keys())
@in_event_loop
async def test_junk_gets_an_error_frame_and_the_connection_stays_usable(text, message, caplog):
    async with stream_client() as client:
        with caplog.at_level(logging.INFO, logger="apps.market.consumers"):
            await client.send_to(text_data=text)
            error = await client.receive_json_from()

        assert error["type"] == "error"
        assert message in error["message"]
        assert [record.levelno for record in caplog.records] == [logging.INFO]
        # Nothing of a refused frame is applied, and the next frame is answered.
        assert await ask(client, {"action": "list"}) == {"type": "subscriptions", "streams": [], "dropped": 0}


@in_event_loop
async def test_a_binary_frame_gets_an_error_frame():
    async with stream_client() as client:
        await client.send_to(bytes_data=b'{"action": "list"}')

        assert await client.receive_json_from() == {
            "type": "error",
            "message": "binary frames are not accepted: send JSON text",
        }
        assert (await ask(client, {"action": "list"}))["type"] == "subscriptions"


@in_event_loop
async def test_an_unknown_action_is_named_shortened_in_the_reply_and_the_log(caplog):
    async with stream_client() as client:
        with caplog.at_level(logging.INFO, logger="apps.market.consumers"):
            await client.send_json_to({"action": "x" * 10_000})
            error = await client.receive_json_from()

        assert error["type"] == "error"
        assert error["message"].startswith("unknown action 'xxx")
        assert len(error["message"]) < 200
        assert len(caplog.records[0].getMessage()) < 400


@in_event_loop
async def test_a_frame_over_the_size_limit_is_refused_unread_and_closes_the_connection(settings, caplog):
    settings.STREAM_CLIENT_FRAME_MAX_CHARS = 1000
    async with stream_client() as client:
        with caplog.at_level(logging.INFO, logger="apps.market.consumers"):
            await client.send_to(text_data=json.dumps({"action": "x" * 1_000_000}))

            assert await client.receive_json_from() == {
                "type": "error",
                "message": "frame too big: at most 1000 characters",
            }
            assert await client.receive_output() == {"type": "websocket.close", "code": 1009}
        assert len(caplog.records[0].getMessage()) < 400


@in_event_loop
async def test_more_frames_a_second_than_the_limit_close_the_connection(settings):
    settings.STREAM_CLIENT_FRAMES_PER_SECOND = 3
    async with stream_client() as client:
        for _ in range(5):
            await client.send_json_to({"action": "list"})

        assert [(await client.receive_json_from())["type"] for _ in range(3)] == ["subscriptions"] * 3
        assert await client.receive_json_from() == {"type": "error", "message": "too many frames: at most 3 a second"}
        assert await client.receive_output() == {"type": "websocket.close", "code": 1008}


@in_event_loop
async def test_a_client_within_the_frame_rate_is_served_second_after_second(settings):
    settings.STREAM_CLIENT_FRAMES_PER_SECOND = 2
    async with stream_client() as client:
        for _ in range(2):  # as many frames as allowed, in each of two seconds
            for _ in range(2):
                assert (await ask(client, {"action": "list"}))["type"] == "subscriptions"
            await asyncio.sleep(1.05)


@in_event_loop
async def test_a_page_of_another_site_is_refused():
    client = WebsocketCommunicator(application, "/ws/stream/", headers=[(b"origin", b"https://evil.example")])

    connected, _ = await client.connect()

    assert not connected


@in_event_loop
async def test_a_connection_cannot_subscribe_beyond_the_cap():
    streams = [f"kline:S{number:03d}USDT:1m" for number in range(consumers.STREAMS_PER_CONNECTION + 1)]
    async with stream_client() as client:
        assert (await ask(client, {"action": "subscribe", "streams": streams[:-1]}))["type"] == "subscribed"

        error = await ask(client, {"action": "subscribe", "streams": streams[-2:]})

        assert error == {
            "type": "error",
            "message": f"at most {consumers.STREAMS_PER_CONNECTION} streams per connection: "
            f"{consumers.STREAMS_PER_CONNECTION} subscribed, 1 more asked for",
        }
        assert (await ask(client, {"action": "list"}))["streams"] == sorted(streams[:-1])


def test_a_full_outbox_drops_the_oldest_frames_and_counts_them():
    async def scenario() -> None:
        outbox = Outbox(3)
        for number in range(5):
            outbox.put({"n": number})

        assert outbox.dropped == 2
        assert [(await outbox.get())["n"] for _ in range(3)] == [2, 3, 4]
        waiting = asyncio.create_task(outbox.get())
        await asyncio.sleep(0)
        outbox.put({"n": 5})
        assert await asyncio.wait_for(waiting, 1) == {"n": 5}

    asyncio.run(scenario())


class StalledClient(WebsocketCommunicator):
    """A client whose socket takes one frame and then nothing until it is read, as an ASGI server with backpressure
    behaves when the client stops reading: the consumer's sends wait."""

    @property
    def output_queue(self) -> asyncio.Queue:
        if self._output_queue is None:
            self._output_queue = asyncio.Queue(maxsize=1)
        return self._output_queue


@in_event_loop
async def test_a_stalled_client_loses_its_oldest_updates_and_delays_nobody(btc_truth, settings):
    settings.STREAM_CLIENT_BUFFER = 3
    published = [kline(row) for row in btc_truth[:10]]
    async with stream_client(StalledClient) as stalled, stream_client() as reader:
        for client in (stalled, reader):
            await ask(client, {"action": "subscribe", "streams": [BTC]})

        for data in published:
            await live_publish(BTC, data)

        assert [await reader.receive_json_from() for _ in published] == [update(BTC, data) for data in published]
        await asyncio.sleep(0.1)  # the stalled consumer handles the last message a moment after the reader's
        # One frame sits in the socket, one in the blocked send; of the other eight the buffer kept the newest 3.
        kept = [published[0], published[1], *published[-3:]]
        assert [await stalled.receive_json_from() for _ in kept] == [update(BTC, data) for data in kept]
        assert await ask(stalled, {"action": "list"}) == {"type": "subscriptions", "streams": [BTC], "dropped": 5}


@in_event_loop
async def test_subscriptions_outlive_the_channel_layers_group_expiry(btc_truth, settings, monkeypatch):
    # The embedded default's in-process layer forgets group members; Redis pub/sub subscriptions never expire.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                                           "CONFIG": {"group_expiry": 1}}}  # fmt: skip
    monkeypatch.setattr(consumers, "GROUP_REJOIN_SECONDS", 0.2)
    async with stream_client() as client:
        await ask(client, {"action": "subscribe", "streams": [BTC]})
        await asyncio.sleep(2.5)

        await live_publish(BTC, kline(btc_truth[0]))

        assert await client.receive_json_from() == update(BTC, kline(btc_truth[0]))


def _listening_port(log: Path) -> int | None:
    found = re.search(r"Listening on TCP address 127\.0\.0\.1:(\d+)", log.read_text())
    return int(found.group(1)) if found else None


@pytest.fixture
def daphne(tmp_path) -> Iterator[str]:
    """A real daphne on a free port of 127.0.0.1 (port 0: daphne logs the one it got), on the tests' Redis."""
    log = tmp_path / "daphne.log"
    environment = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": settings.REDIS_URL}
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0", "config.asgi:application"]
    with process_group(command, log, environment, stop_seconds=10) as process:
        wait_ready(process, lambda: _listening_port(log), log, "daphne")
        yield f"ws://127.0.0.1:{_listening_port(log)}/ws/stream/"


async def ws_ask(client: ClientConnection, frame: dict) -> dict:
    await client.send(json.dumps(frame))
    return json.loads(await client.recv())


async def ws_frames(client: ClientConnection, count: int) -> list[dict]:
    frames = [json.loads(await asyncio.wait_for(client.recv(), 5)) for _ in range(count)]
    return sorted(frames, key=lambda frame: frame["stream"])


async def ws_silent(client: ClientConnection) -> bool:
    try:
        await asyncio.wait_for(client.recv(), 0.5)
    except TimeoutError:
        return True
    return False


def test_a_program_that_sends_no_origin_is_served(daphne, btc_truth):
    async def scenario() -> None:
        async with connect(daphne) as program:  # python websockets sends no Origin header
            assert await ws_ask(program, {"action": "subscribe", "streams": [BTC]}) == {
                "type": "subscribed",
                "streams": [BTC],
            }
            await live_publish(BTC, kline(btc_truth[0]))

            assert await ws_frames(program, 1) == [update(BTC, kline(btc_truth[0]))]

    async_to_sync(scenario)()


def test_two_real_clients_over_redis_each_receive_exactly_the_streams_they_subscribed_to(daphne, btc_truth):
    publications = {
        TICKER: tickers(btc_truth[0]),
        BTC: kline(btc_truth[0]),
        ETH: kline(btc_truth[0], "ETHUSDT"),
        "kline:SOLUSDT:1m": kline(btc_truth[0], "SOLUSDT"),
    }

    async def scenario() -> None:
        async with connect(daphne, origin=ORIGIN) as a, connect(daphne, origin=ORIGIN) as b:
            assert (await ws_ask(a, {"action": "subscribe", "streams": [TICKER, BTC]}))["type"] == "subscribed"
            assert (await ws_ask(b, {"action": "subscribe", "streams": [ETH]}))["type"] == "subscribed"

            for stream, data in publications.items():
                await live_publish(stream, data)

            assert await ws_frames(a, 2) == [update(BTC, publications[BTC]), update(TICKER, publications[TICKER])]
            assert await ws_frames(b, 1) == [update(ETH, publications[ETH])]
            assert await asyncio.gather(ws_silent(a), ws_silent(b)) == [True, True]

    async_to_sync(scenario)()
