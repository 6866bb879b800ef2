"""The `signals` live stream: a WebSocket client subscribed to it receives each new signal once, as the API shows
it (through the whole ASGI stack and the real Redis channel layer)."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from tests.market.factories import SymbolFactory
from tests.market.test_stream_relay import ask, in_event_loop, stream_client, update
from tests.strategies.factories import StrategyFactory, evaluate, snapshot

# The WebSocket's session lookup closes the test's connection, which would end a test transaction: commit instead.
pytestmark = pytest.mark.django_db(transaction=True)


def evaluated(symbol) -> list[dict]:
    """Evaluate the symbol (new signals are published once committed); the signals as the API lists them."""
    evaluate(symbol)
    return Client().get("/api/v1/signals/").json()["results"]


@in_event_loop
async def test_a_subscriber_receives_each_new_signal_once_as_the_api_shows_it():
    btc = await sync_to_async(SymbolFactory)(symbol="BTCUSDT")
    await sync_to_async(StrategyFactory)()
    await sync_to_async(snapshot)(btc, {"rsi_14": 20.0})
    async with stream_client() as client:
        assert await ask(client, {"action": "subscribe", "streams": ["signals"]}) == {
            "type": "subscribed",
            "streams": ["signals"],
        }

        listed = await sync_to_async(evaluated)(btc)
        assert await client.receive_json_from() == update("signals", listed)

        await sync_to_async(evaluated)(btc)
        assert await client.receive_nothing(timeout=0.3)
