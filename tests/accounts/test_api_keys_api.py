"""Named long-lived API keys: a user creates, lists and revokes their own; a read-only key only reads."""

import pytest

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create
from tests.alerts.factories import UserFactory

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/auth/api-keys/"
PRIVATE = "/api/v1/watchlists/"  # any endpoint that needs a signed-in user, to read and to write


@pytest.fixture
def alice():
    return UserFactory(username="alice")


def with_key(key: str) -> dict[str, str]:
    return {"Authorization": f"Api-Key {key}"}


def create_watchlist(client, key: str):
    return client.post(PRIVATE, {"name": "majors", "symbols": []}, content_type="application/json",
                       headers=with_key(key))  # fmt: skip


def test_a_user_creates_a_named_key_and_reads_with_it(client, alice):
    client.force_login(alice)

    created = client.post(KEYS, {"name": "my bot", "scope": "read"}, content_type="application/json")
    client.logout()

    assert created.status_code == 201
    assert created.json()["name"] == "my bot"
    assert client.get(PRIVATE, headers=with_key(created.json()["key"])).status_code == 200


def test_a_key_is_read_only_unless_asked_otherwise(client, alice):
    client.force_login(alice)

    created = client.post(KEYS, {"name": "my bot"}, content_type="application/json")

    assert created.json()["scope"] == "read"


def test_a_user_lists_their_keys_by_name_and_prefix_never_the_keys_themselves(client, alice):
    _, key = api_key_create(owner=alice, name="my bot", scope=ApiKey.Scope.READ)
    api_key_create(owner=UserFactory(), name="someone else's", scope=ApiKey.Scope.READ)
    client.force_login(alice)

    [listed] = client.get(KEYS).json()["results"]

    assert (listed["name"], listed["scope"], listed["prefix"]) == ("my bot", "read", key[:8])
    assert "key" not in listed


def test_only_a_digest_of_the_key_is_stored(alice):
    api_key, key = api_key_create(owner=alice, name="my bot", scope=ApiKey.Scope.READ)

    assert key not in {value for value in vars(ApiKey.objects.get(pk=api_key.pk)).values() if isinstance(value, str)}


def test_a_name_is_taken_once_per_user(client, alice):
    api_key_create(owner=alice, name="my bot", scope=ApiKey.Scope.READ)
    client.force_login(alice)

    response = client.post(KEYS, {"name": "my bot"}, content_type="application/json")

    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_a_revoked_key_is_refused(client, alice):
    api_key, key = api_key_create(owner=alice, name="my bot", scope=ApiKey.Scope.READ)
    client.force_login(alice)

    revoked = client.delete(f"{KEYS}{api_key.pk}/")
    client.logout()

    assert revoked.status_code == 204
    assert client.get(PRIVATE, headers=with_key(key)).status_code == 401


def test_another_users_key_cannot_be_revoked(client, alice):
    api_key, _ = api_key_create(owner=UserFactory(), name="their bot", scope=ApiKey.Scope.READ)
    client.force_login(alice)

    assert client.delete(f"{KEYS}{api_key.pk}/").status_code == 404
    assert ApiKey.objects.filter(pk=api_key.pk).exists()


def test_a_read_only_key_is_refused_on_unsafe_methods(client, alice):
    _, key = api_key_create(owner=alice, name="reader", scope=ApiKey.Scope.READ)

    response = create_watchlist(client, key)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "This API key is read-only."


def test_a_read_write_key_may_write(client, alice):
    _, key = api_key_create(owner=alice, name="trader", scope=ApiKey.Scope.READ_WRITE)

    assert create_watchlist(client, key).status_code == 201


def test_a_read_only_key_cannot_make_itself_a_read_write_key(client, alice):
    _, key = api_key_create(owner=alice, name="reader", scope=ApiKey.Scope.READ)

    response = client.post(KEYS, {"name": "writer", "scope": "read_write"}, content_type="application/json",
                           headers=with_key(key))  # fmt: skip

    assert response.status_code == 403


def test_a_wrong_key_is_refused(client):
    response = client.get(PRIVATE, headers=with_key("not-a-key"))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_the_key_of_an_inactive_user_is_refused(client, alice):
    _, key = api_key_create(owner=alice, name="my bot", scope=ApiKey.Scope.READ)
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert client.get(PRIVATE, headers=with_key(key)).status_code == 401
