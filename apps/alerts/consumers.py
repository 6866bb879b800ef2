"""A user's alerts, live (/ws/alerts/): each event of their rules as it is delivered, as
`{"type": "alert", "event": {...}}`. Signed in by the session (the browser) or, for programs, an `Authorization`
header the API accepts (`Token <key>`, `Bearer <JWT access token>`, `Api-Key <key>`); anyone else is refused at the
handshake. The stream only sends: a client frame is answered with an error.
"""

import asyncio
import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from apps.accounts.auth import authorization_user
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
        # The in-process channel layer (the embedded default) forgets a group member after its group_expiry (a day);
        # connections stay longer.
        while True:
            await asyncio.sleep(GROUP_REJOIN_SECONDS)
            await self.channel_layer.group_add(self.group, self.channel_name)


async def _user_id(scope: dict) -> int | None:
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return user.pk
    authorization = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
    return await _authorization_user_id(authorization) if authorization else None


@database_sync_to_async
def _authorization_user_id(authorization: str) -> int | None:
    user = authorization_user(authorization=authorization)
    return user.pk if user is not None else None
