"""Programs open /ws/alerts/ with whatever the API accepts from them: a JWT access token or an API key too."""

import functools

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create, api_key_revoke
from config.asgi import application
from tests.alerts.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def in_event_loop(test):
    @functools.wraps(test)
    def run(*args: object, **kwargs: object) -> None:
        async_to_sync(test)(*args, **kwargs)

    return run


async def connects(authorization: str) -> bool:
    headers = [(b"origin", b"http://127.0.0.1"), (b"authorization", authorization.encode())]
    client = WebsocketCommunicator(application, "/ws/alerts/", headers=headers)
    connected, _ = await client.connect()
    await client.disconnect()
    return connected


@in_event_loop
async def test_a_jwt_access_token_opens_the_socket():
    access = await sync_to_async(AccessToken.for_user)(await sync_to_async(UserFactory)())

    assert await connects(f"Bearer {access}")


@in_event_loop
async def test_a_refresh_token_does_not_open_the_socket():
    refresh = await sync_to_async(RefreshToken.for_user)(await sync_to_async(UserFactory)())

    assert not await connects(f"Bearer {refresh}")


@in_event_loop
async def test_a_read_only_api_key_opens_the_socket():
    _, key = await sync_to_async(api_key_create)(
        owner=await sync_to_async(UserFactory)(), name="bot", scope=ApiKey.Scope.READ
    )

    assert await connects(f"Api-Key {key}")


@in_event_loop
async def test_a_revoked_api_key_does_not_open_the_socket():
    api_key, key = await sync_to_async(api_key_create)(
        owner=await sync_to_async(UserFactory)(), name="bot", scope=ApiKey.Scope.READ
    )
    await sync_to_async(api_key_revoke)(api_key=api_key)

    assert not await connects(f"Api-Key {key}")
