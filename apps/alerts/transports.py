"""Where alert events go: one small interface, `send(event, destination)`, for each channel. A failure raises
TransportError: `permanent` when trying again cannot help, with `retry_after` (seconds) when the other side said
how long to wait."""

import functools
import logging
from typing import Any, Protocol

import httpx
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.alerts.destination_limits import destination_answered, destination_failed
from apps.alerts.destinations import CheckedAddressTransport, DestinationRefused
from apps.alerts.models import AlertDelivery, AlertEvent
from apps.market.transport import TransportError

logger = logging.getLogger(__name__)

WEBHOOK_NO_ANSWER = "webhook: no answer (could not connect, or no HTTP answer in time)"
WEBHOOK_REFUSED = "webhook: refused, its host is not a public address"


class Transport(Protocol):
    def send(self, event: AlertEvent, destination: str) -> None: ...


def alerts_group(user_id: int) -> str:
    """The channel-layer group of a user's open /ws/alerts/ connections."""
    return f"user.{user_id}.alerts"


def event_payload(event: AlertEvent) -> dict[str, Any]:
    """An event as JSON: what the WebSocket and webhook receive and the API lists."""
    return {
        "id": event.id,
        "rule": event.rule_id,
        "symbol": event.symbol.symbol,
        "message": event.message,
        "values": event.values,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
    }


class TelegramTransport:
    def send(self, event: AlertEvent, destination: str) -> None:
        from apps.telegram.alert_commands import alert_buttons
        from apps.telegram.services import telegram_send

        # Mute and Delete act on the rule; an event whose rule was deleted meanwhile goes without them.
        buttons = alert_buttons(event.rule_id) if event.rule_id else None
        telegram_send(int(destination), event.message, buttons=buttons)


class WebSocketTransport:
    """Hands the event to the channel layer: every open connection of the user gets it (none open: nobody does;
    the history in the API keeps it)."""

    def send(self, event: AlertEvent, destination: str) -> None:
        message = {"type": "alert.event", "event": event_payload(event)}
        try:
            async_to_sync(get_channel_layer().group_send)(alerts_group(event.user_id), message)
        except Exception as error:  # the channel layer is Redis: whatever fails there may work next time
            raise TransportError(f"channel layer: {error.__class__.__name__}: {error}") from error


class WebhookTransport:
    """POSTs the event as JSON, to a public address only (apps.alerts.destinations). 2xx is delivered; 5xx, 429,
    timeouts and connection errors are tried again; any other answer is permanent. The event's id goes in
    `Idempotency-Key`, so that a receiver can tell a retry of an event it already has (a delivery whose sender died
    mid-request is sent again). The user sees the HTTP status their server answered, or one message for every way
    of getting no answer: which one (refused, reset, timed out) would tell them whether a port is open; the log has
    it. No answer and 5xx count towards pausing the destination (apps.alerts.destination_limits)."""

    def send(self, event: AlertEvent, destination: str) -> None:
        headers = {"Idempotency-Key": f"alert-event-{event.id}", "User-Agent": "crypto-screener-alerts"}
        try:
            response = webhook_client().post(
                destination, json=event_payload(event), headers=headers, timeout=settings.ALERTS_WEBHOOK_TIMEOUT_SECONDS
            )
        except DestinationRefused as refused:
            logger.warning("webhook of event %s to %s refused: %s", event.id, destination, refused)
            raise TransportError(WEBHOOK_REFUSED, permanent=True) from refused
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise TransportError(f"webhook: {error}", permanent=True) from error
        except httpx.HTTPError as error:  # timeouts, refused or dropped connections, a body that is not HTTP
            logger.warning("webhook of event %s to %s: %s: %s", event.id, destination, error.__class__.__name__, error)
            destination_failed(destination)
            raise TransportError(WEBHOOK_NO_ANSWER) from error
        if response.status_code >= 500:
            destination_failed(destination)
        else:
            destination_answered(destination)
        if response.is_success:
            return
        error = TransportError(f"webhook: HTTP {response.status_code}", permanent=response.status_code < 500)
        if response.status_code == 429:
            error.permanent = False
            error.retry_after = _seconds(response.headers.get("Retry-After"))
        raise error


@functools.cache
def webhook_client() -> httpx.Client:
    """This process's client: its connections to a destination are reused, each made to an address that was
    checked. Never follows redirects (a redirect could point anywhere)."""
    return httpx.Client(transport=CheckedAddressTransport(), follow_redirects=False, trust_env=False)


def _seconds(header: str | None) -> int | None:
    return int(header) if header and header.isdigit() else None


TRANSPORTS: dict[str, Transport] = {
    AlertDelivery.Channel.TELEGRAM: TelegramTransport(),
    AlertDelivery.Channel.WEBSOCKET: WebSocketTransport(),
    AlertDelivery.Channel.WEBHOOK: WebhookTransport(),
}
