"""Each fired event reaches each of its channels once: webhooks on a real local HTTP server, Telegram on the fake
Bot API server, the WebSocket through a real consumer on the Redis channel layer."""

import functools
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.alerts.index import Match
from apps.alerts.models import AlertDelivery, AlertEvent
from apps.alerts.services import (
    DELIVERY_LEASE,
    WebhookWait,
    alert_event_deliver,
    alert_rules_fire,
    alert_webhook_deliver,
)
from apps.alerts.transports import WEBHOOK_NO_ANSWER
from apps.telegram.models import TelegramChat
from config.asgi import application
from tasks.alerts import deliver_event, deliver_webhook
from tests.alerts.conftest import RETRY_AFTER
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.market.factories import SymbolFactory

Status = AlertDelivery.Status
CHAT = 7001


def fire(**rule_fields: object) -> AlertEvent:
    """A rule on BTCUSDT fired by a ticker: its event, with its deliveries pending."""
    btc = SymbolFactory(symbol="BTCUSDT")
    rule = AlertRuleFactory(symbol=btc, **({"websocket": False} | rule_fields))
    [event_id] = alert_rules_fire(
        matches=[Match(rule.id, btc.id, "ticker:1", {"price": 101.0, "previous_price": 99.0})]
    )
    return AlertEvent.objects.get(id=event_id)


def delivery(event: AlertEvent, channel: str) -> AlertDelivery:
    return event.deliveries.get(channel=channel)


def deliver(event: AlertEvent, *, final: bool) -> WebhookWait | None:
    """One attempt at the event's webhook delivery."""
    return alert_webhook_deliver(delivery_id=delivery(event, "webhook").id, final=final)


@pytest.mark.django_db
class TestWebhook:
    def test_the_webhook_gets_the_event_as_json(self, webhook):
        event = fire(webhook_url=webhook.url)

        deliver_webhook.delay(delivery(event, "webhook").id)

        [request] = webhook.received
        assert request["body"] == {"id": event.id, "rule": event.rule_id, "symbol": "BTCUSDT",
                                   "message": "BTCUSDT: price rises to or above 100 (now 101)",
                                   "values": {"price": 101.0, "previous_price": 99.0},
                                   "created_at": event.created_at.isoformat().replace("+00:00", "Z")}  # fmt: skip
        assert request["headers"]["Idempotency-Key"] == f"alert-event-{event.id}"
        sent = delivery(event, "webhook")
        assert (sent.status, sent.attempts, sent.destination) == (Status.SENT, 1, webhook.url)

    def test_the_delivery_task_run_twice_sends_once(self, webhook):
        event = fire(webhook_url=webhook.url)

        deliver_webhook.delay(delivery(event, "webhook").id)
        deliver_webhook.delay(delivery(event, "webhook").id)

        assert len(webhook.received) == 1
        assert delivery(event, "webhook").attempts == 1

    def test_a_server_error_leaves_it_pending_for_a_retry_which_sends_it(self, webhook):
        webhook.statuses = [503]
        event = fire(webhook_url=webhook.url)

        assert deliver(event, final=False) == WebhookWait(0)
        assert (delivery(event, "webhook").status, delivery(event, "webhook").error) == (
            Status.PENDING,
            "webhook: HTTP 503",
        )
        assert deliver(event, final=False) is None
        assert (delivery(event, "webhook").status, delivery(event, "webhook").attempts) == (Status.SENT, 2)

    def test_a_timeout_is_tried_again(self, webhook, settings, caplog):
        settings.ALERTS_WEBHOOK_TIMEOUT_SECONDS = 0.2
        webhook.delay = 1.0
        event = fire(webhook_url=webhook.url)

        assert deliver(event, final=False) == WebhookWait(0)
        assert delivery(event, "webhook").status == Status.PENDING
        assert delivery(event, "webhook").error == WEBHOOK_NO_ANSWER
        assert "ReadTimeout" in caplog.text, "the detail is for the operator's log"

    def test_a_too_many_requests_answer_waits_its_retry_after(self, webhook):
        webhook.statuses = [429]
        event = fire(webhook_url=webhook.url)

        assert deliver(event, final=False) == WebhookWait(RETRY_AFTER)

    def test_a_client_error_fails_for_good(self, webhook):
        webhook.statuses = [410]
        event = fire(webhook_url=webhook.url)

        assert deliver(event, final=False) is None
        assert deliver(event, final=False) is None
        assert (delivery(event, "webhook").status, delivery(event, "webhook").error) == (
            Status.FAILED,
            "webhook: HTTP 410",
        )
        assert len(webhook.received) == 1

    def test_on_the_last_attempt_a_failure_is_final(self, webhook):
        webhook.statuses = [500]
        event = fire(webhook_url=webhook.url)

        assert deliver(event, final=True) is None
        assert delivery(event, "webhook").status == Status.FAILED

    def test_a_delivery_another_sender_is_sending_is_left_to_it(self, webhook):
        event = fire(webhook_url=webhook.url)
        event.deliveries.update(status=Status.SENDING, claimed_at=timezone.now())

        deliver_webhook.delay(delivery(event, "webhook").id)

        assert webhook.received == []

    def test_a_delivery_another_sender_holds_is_looked_at_again_when_its_lease_ends(self, webhook):
        event = fire(webhook_url=webhook.url)
        event.deliveries.update(status=Status.SENDING, claimed_at=timezone.now())

        wait = deliver(event, final=False)

        assert DELIVERY_LEASE.total_seconds() - 5 < wait.seconds <= DELIVERY_LEASE.total_seconds()

    def test_a_delivery_whose_sender_died_is_sent_again(self, webhook):
        event = fire(webhook_url=webhook.url)
        event.deliveries.update(status=Status.SENDING, claimed_at=timezone.now() - timedelta(minutes=5), attempts=1)

        deliver_webhook.delay(delivery(event, "webhook").id)

        assert len(webhook.received) == 1
        assert (delivery(event, "webhook").status, delivery(event, "webhook").attempts) == (Status.SENT, 2)


@pytest.mark.django_db
class TestTelegram:
    def test_each_linked_chat_not_muted_gets_the_message_with_mute_and_delete_buttons(self, fake_telegram):
        owner = UserFactory()
        TelegramChat.objects.create(user=owner, chat_id=CHAT)
        TelegramChat.objects.create(user=owner, chat_id=CHAT + 1, muted_until=timezone.now() + timedelta(hours=1))
        event = fire(owner=owner, telegram=True)

        deliver_event.delay(event.id)

        assert fake_telegram.texts_to(CHAT) == [event.message]
        assert fake_telegram.texts_to(CHAT + 1) == []
        [message] = fake_telegram.messages
        buttons = message.reply_markup["inline_keyboard"][0]
        assert [button["callback_data"] for button in buttons] == [f"mute:{event.rule_id}", f"delete:{event.rule_id}"]
        assert delivery(event, "telegram").status == Status.SENT

    def test_flood_control_is_waited_out_as_long_as_telegram_asks(self, fake_telegram):
        owner = UserFactory()
        TelegramChat.objects.create(user=owner, chat_id=CHAT)
        event = fire(owner=owner, telegram=True)
        fake_telegram.fail_next(1, 429, retry_after=7)

        assert alert_event_deliver(event_id=event.id, final=False) == 7
        assert delivery(event, "telegram").status == Status.PENDING

    def test_a_chat_that_blocked_the_bot_fails_for_good(self, fake_telegram):
        owner = UserFactory()
        TelegramChat.objects.create(user=owner, chat_id=CHAT)
        fake_telegram.blocked.add(CHAT)
        event = fire(owner=owner, telegram=True)

        assert alert_event_deliver(event_id=event.id, final=False) is None
        assert delivery(event, "telegram").status == Status.FAILED
        assert "blocked" in delivery(event, "telegram").error

    def test_without_a_linked_chat_the_telegram_delivery_fails_when_it_fires(self):
        event = fire(telegram=True)

        assert delivery(event, "telegram").status == Status.FAILED
        assert delivery(event, "telegram").error == "No Telegram chat linked, or all muted."


def in_event_loop(test):
    @functools.wraps(test)
    def run(*args: object, **kwargs: object) -> None:
        async_to_sync(test)(*args, **kwargs)

    return run


def alerts_client(token: str | None, origin: bytes | None = b"http://127.0.0.1") -> WebsocketCommunicator:
    headers = [(b"origin", origin)] if origin else []
    headers += [(b"authorization", f"Token {token}".encode())] if token else []
    return WebsocketCommunicator(application, "/ws/alerts/", headers=headers)


@pytest.mark.django_db(transaction=True)
class TestWebSocket:
    @in_event_loop
    async def test_the_users_open_connections_receive_the_event_and_no_one_else(self):
        owner, other = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
        owners = alerts_client((await sync_to_async(Token.objects.create)(user=owner)).key)
        others = alerts_client((await sync_to_async(Token.objects.create)(user=other)).key)
        assert (await owners.connect())[0] and (await others.connect())[0]
        event = await sync_to_async(fire)(owner=owner, websocket=True)

        await sync_to_async(deliver_event.delay)(event.id)

        frame = await owners.receive_json_from(timeout=5)
        assert frame["type"] == "alert"
        assert (frame["event"]["id"], frame["event"]["message"]) == (event.id, event.message)
        assert await others.receive_nothing(timeout=0.3)
        assert (await sync_to_async(delivery)(event, "websocket")).status == Status.SENT
        await owners.disconnect()
        await others.disconnect()

    @in_event_loop
    async def test_a_connection_without_credentials_is_refused(self):
        client = alerts_client(None)

        connected, _ = await client.connect()

        assert not connected

    @in_event_loop
    async def test_a_program_that_sends_no_origin_connects_with_its_token_and_receives_its_events(self):
        owner = await sync_to_async(UserFactory)()
        program = alerts_client((await sync_to_async(Token.objects.create)(user=owner)).key, origin=None)
        assert (await program.connect())[0]
        event = await sync_to_async(fire)(owner=owner, websocket=True)

        await sync_to_async(deliver_event.delay)(event.id)

        assert (await program.receive_json_from(timeout=5))["event"]["id"] == event.id
        await program.disconnect()

    @in_event_loop
    async def test_a_program_that_sends_no_origin_and_no_token_is_refused(self):
        connected, _ = await alerts_client(None, origin=None).connect()

        assert not connected

    @in_event_loop
    async def test_a_page_of_another_site_is_refused_even_with_a_token(self):
        token = await sync_to_async(Token.objects.create)(user=await sync_to_async(UserFactory)())

        connected, _ = await alerts_client(token.key, origin=b"https://evil.example").connect()

        assert not connected

    @in_event_loop
    async def test_a_wrong_token_is_refused(self):
        connected, _ = await alerts_client("not-a-token").connect()

        assert not connected

    @in_event_loop
    async def test_a_client_frame_is_answered_with_an_error(self):
        token = await sync_to_async(Token.objects.create)(user=await sync_to_async(UserFactory)())
        client = alerts_client(token.key)
        await client.connect()

        await client.send_json_to({"action": "subscribe"})

        assert await client.receive_json_from() == {"type": "error", "message": "this stream only sends alerts"}
        await client.disconnect()
