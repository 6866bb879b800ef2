from enum import StrEnum


class Queue(StrEnum):
    """Celery queues, one per concern, so that each can get its own workers."""

    INGEST = "ingest"
    INDICATORS = "indicators"
    STRATEGIES = "strategies"
    NOTIFICATIONS = "notifications"
    # Alert webhooks wait on servers their users chose: a slow one must not hold up anyone's Telegram or WebSocket.
    WEBHOOKS = "webhooks"
