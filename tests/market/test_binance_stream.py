import asyncio
import time

from apps.market.binance.stream import StreamConnection


def test_streams_past_the_url_are_subscribed_in_paced_messages(exchange):
    streams = ["!miniTicker@arr", *(f"sym{n}usdt@kline_1m" for n in range(700))]

    async def connect() -> None:
        connection = StreamConnection(exchange.ws_url, streams, silence_seconds=5)
        await connection.open()
        await asyncio.sleep(0.5)  # the last SUBSCRIBE's answer
        await connection.close()

    started = time.monotonic()
    asyncio.run(connect())

    assert exchange.streams.connections_opened == 1
    assert exchange.streams.subscribed_ever == set(streams), "every stream, none cut by the fake's 5 messages/s limit"
    assert time.monotonic() - started >= 3 * 0.25, "three SUBSCRIBE messages, a quarter of a second apart"
