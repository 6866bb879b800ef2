"""A user's alerts, live (/ws/alerts/): each event of their rules as it is delivered, as
`{"type": "alert", "event": {...}}`. Signed in by the session (the browser) or `Authorization: Token <key>`
(programs); anyone else is refused at the handshake. The stream only sends: a client frame is answered with an error.
"""

import asyncio
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from rest_framework.authtoken.models import Token

from apps.alerts.transports import alerts_group
from apps.market.consumers import GROUP_REJOIN_SECONDS


class AlertsConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user_id = await _user_id(self.scope)
        if user_id is None:
            await self.close()
            return
        self.group = alerts_group(user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.rejoining = asyncio.create_task(self._rejoin_forever())

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "rejoining"):
            self.rejoining.cancel()
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=json.dumps({"type": "error", "message": "this stream only sends alerts"}))

    async def alert_event(self, message: dict) -> None:
        await self.send(text_data=json.dumps({"type": "alert", "event": message["event"]}))

    async def _rejoin_forever(self) -> None:
        # The channel layer forgets a group member after its group_expiry (a day); connections stay longer.
        while True:
            await asyncio.sleep(GROUP_REJOIN_SECONDS)
            await self.channel_layer.group_add(self.group, self.channel_name)


async def _user_id(scope: dict) -> int | None:
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return user.pk
    scheme, _, key = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1").partition(" ")
    return await _token_user_id(key) if scheme == "Token" and key else None


@database_sync_to_async
def _token_user_id(key: str) -> int | None:
    return Token.objects.filter(key=key, user__is_active=True).values_list("user_id", flat=True).first()
