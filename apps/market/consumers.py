"""The live stream endpoint (/ws/stream/): clients subscribe to streams and receive their updates.

The protocol is documented in README.md ("Live stream (WebSocket)"). Which stream names exist is decided by
`apps.market.live.stream_checked` alone; this consumer only translates frames into group membership and back.
"""

import asyncio
import json
import logging
import reprlib
import time
from collections import deque
from collections.abc import Iterable

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from apps.market.live import InvalidStream, stream_checked, stream_group

logger = logging.getLogger(__name__)

# Every subscription is a group membership on the channel layer (on Redis, a process's first member of a group
# subscribes it, its last unsubscribes it).
STREAMS_PER_CONNECTION = 200
# The in-process channel layer (the embedded default) forgets a group member after its group_expiry (a day by
# default); clients stay longer than that.
GROUP_REJOIN_SECONDS = 3600.0
# WebSocket close codes (RFC 6455)
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_POLICY_VIOLATION = 1008


class ClientError(Exception):
    """Something wrong in a client's frame: answered with an error frame, the connection stays open."""


class ClientOverLimit(Exception):
    """A frame too big, or too many frames: answered with an error frame, then the connection is closed with `code`."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Outbox:
    """The frames waiting for one client's socket, at most `size`: when full, the oldest is dropped and counted."""

    def __init__(self, size: int) -> None:
        self._frames: deque[dict] = deque(maxlen=size)
        self._ready = asyncio.Event()
        self.dropped = 0

    def put(self, frame: dict) -> None:
        if len(self._frames) == self._frames.maxlen:
            self.dropped += 1
        self._frames.append(frame)
        self._ready.set()

    async def get(self) -> dict:
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        return self._frames.popleft()


class StreamConsumer(AsyncWebsocketConsumer):
    """One client's connection. Every frame to the client goes through its outbox and one sender task, so that
    handling a group message never waits for this client's socket (a slow reader loses its oldest frames instead of
    holding up the channel layer), and acknowledgements stay in order with the updates around them."""

    async def connect(self) -> None:
        self.streams: set[str] = set()
        self.outbox = Outbox(settings.STREAM_CLIENT_BUFFER)
        self.second_started, self.frames_this_second = time.monotonic(), 0
        await self.accept()
        self.tasks = [asyncio.create_task(self._send_forever()), asyncio.create_task(self._rejoin_forever())]

    async def disconnect(self, code: int) -> None:
        for task in self.tasks:
            task.cancel()
        await self._leave(self.streams)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            self._check_within_limits(text_data or bytes_data or "")
            self.outbox.put(await self._answer(text_data))
        except ClientError as error:
            logger.info("stream client %s: %s", self.channel_name, error)
            self.outbox.put({"type": "error", "message": str(error)})
        except ClientOverLimit as error:
            logger.info("stream client %s closed: %s", self.channel_name, error)
            # Past the outbox: the connection closes before its sender task would get to this frame.
            await self.send(text_data=json.dumps({"type": "error", "message": str(error)}))
            await self.close(code=error.code)

    async def dispatch(self, message: dict) -> None:
        # Channels closes stale database connections before every handler, through its thread pool; an update
        # touches no database, and at a thousand a second those thread hops took most of daphne's time.
        if message["type"] == "stream.message":
            await self.stream_message(message)
        else:
            await super().dispatch(message)

    async def stream_message(self, event: dict) -> None:
        # A message already on its way when the client unsubscribed must not reach it after the acknowledgement.
        if event["stream"] in self.streams:
            self.outbox.put({"type": "update", "stream": event["stream"], "data": event["data"]})

    def _check_within_limits(self, frame: str | bytes) -> None:
        # Daphne accepts frames of any size at any rate: without these, one anonymous client costs unbounded memory,
        # CPU and log lines.
        if len(frame) > settings.STREAM_CLIENT_FRAME_MAX_CHARS:
            raise ClientOverLimit(
                f"frame too big: at most {settings.STREAM_CLIENT_FRAME_MAX_CHARS} characters", CLOSE_MESSAGE_TOO_BIG
            )
        now = time.monotonic()
        if now - self.second_started >= 1:
            self.second_started, self.frames_this_second = now, 0
        self.frames_this_second += 1
        if self.frames_this_second > settings.STREAM_CLIENT_FRAMES_PER_SECOND:
            raise ClientOverLimit(
                f"too many frames: at most {settings.STREAM_CLIENT_FRAMES_PER_SECOND} a second", CLOSE_POLICY_VIOLATION
            )

    async def _answer(self, text_data: str | None) -> dict:
        request = _request_parsed(text_data)
        match request.get("action"):
            case "subscribe":
                return {"type": "subscribed", "streams": await self._subscribe(_streams_requested(request))}
            case "unsubscribe":
                return {"type": "unsubscribed", "streams": await self._unsubscribe(_streams_requested(request))}
            case "list":
                return {"type": "subscriptions", "streams": sorted(self.streams), "dropped": self.outbox.dropped}
            case action:
                # Shortened: whatever the client sent is neither echoed nor logged in full.
                raise ClientError(f"unknown action {reprlib.repr(action)}: use 'subscribe', 'unsubscribe' or 'list'")

    async def _subscribe(self, streams: list[str]) -> list[str]:
        new = [stream for stream in streams if stream not in self.streams]
        if len(self.streams) + len(new) > STREAMS_PER_CONNECTION:
            raise ClientError(
                f"at most {STREAMS_PER_CONNECTION} streams per connection: {len(self.streams)} subscribed, "
                f"{len(new)} more asked for"
            )
        await self._join(new)
        self.streams.update(new)
        return streams

    async def _unsubscribe(self, streams: list[str]) -> list[str]:
        subscribed = [stream for stream in streams if stream in self.streams]
        self.streams.difference_update(subscribed)
        await self._leave(subscribed)
        return streams

    async def _join(self, streams: Iterable[str]) -> None:
        for stream in streams:
            await self.channel_layer.group_add(stream_group(stream), self.channel_name)

    async def _leave(self, streams: Iterable[str]) -> None:
        for stream in streams:
            await self.channel_layer.group_discard(stream_group(stream), self.channel_name)

    async def _send_forever(self) -> None:
        while True:
            frame = await self.outbox.get()
            await self.send(text_data=json.dumps(frame))

    async def _rejoin_forever(self) -> None:
        while True:
            await asyncio.sleep(GROUP_REJOIN_SECONDS)
            for stream in list(self.streams):
                # The client may unsubscribe meanwhile: rejoining then would leave a member nobody removes.
                if stream in self.streams:
                    await self.channel_layer.group_add(stream_group(stream), self.channel_name)


def _request_parsed(text_data: str | None) -> dict:
    if text_data is None:
        raise ClientError("binary frames are not accepted: send JSON text")
    try:
        request = json.loads(text_data)
    except (ValueError, RecursionError) as error:  # RecursionError: JSON nested thousands deep
        raise ClientError(f"not JSON: {error}") from None
    if not isinstance(request, dict):
        raise ClientError('a frame is a JSON object: {"action": ...}')
    return request


def _streams_requested(request: dict) -> list[str]:
    names = request.get("streams")
    if not isinstance(names, list):
        raise ClientError("'streams' must be a list of stream names")
    try:
        return list(dict.fromkeys(stream_checked(name) for name in names))
    except InvalidStream as error:
        raise ClientError(str(error)) from None
