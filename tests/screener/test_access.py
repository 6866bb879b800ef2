"""Who may read the API, how programs sign in, and how fast anyone may ask."""

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return User.objects.create_user("alice", password="secret-pw")


def test_market_data_is_open_to_read_by_default(client):
    assert client.get("/api/v1/screener/").status_code == 200


def test_reading_can_be_closed_to_anonymous_clients(client, settings):
    settings.API_READ_REQUIRES_AUTH = True

    assert client.get("/api/v1/screener/").status_code == 401


def test_a_program_gets_a_token_for_its_user_and_reads_with_it(client, settings, alice):
    settings.API_READ_REQUIRES_AUTH = True

    token = client.post("/api/v1/auth/token/", {"username": "alice", "password": "secret-pw"}).json()["token"]

    assert client.get("/api/v1/screener/", headers={"Authorization": f"Token {token}"}).status_code == 200


def test_a_wrong_password_gets_no_token(client, alice):
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": "guess"})

    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_wrong_token_is_refused(client):
    response = client.get("/api/v1/screener/", headers={"Authorization": "Token 0123456789abcdef"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.fixture
def two_a_day(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "3/minute"}
    }


def test_an_address_over_its_rate_gets_429_with_retry_after(client, two_a_day):
    statuses = [client.get("/api/v1/screener/", REMOTE_ADDR="10.0.0.1").status_code for _ in range(3)]

    response = client.get("/api/v1/screener/", REMOTE_ADDR="10.0.0.1")
    assert statuses == [200, 200, 429]
    assert 0 < int(response["Retry-After"]) <= 86400
    assert response.json()["error"]["code"] == "throttled"


def test_each_address_has_its_own_allowance(client, two_a_day):
    for _ in range(2):
        client.get("/api/v1/screener/", REMOTE_ADDR="10.0.0.1")

    assert client.get("/api/v1/screener/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_signed_in_user_has_their_own_allowance_wherever_they_come_from(client, two_a_day, alice):
    client.force_login(alice)
    statuses = [client.get("/api/v1/screener/", REMOTE_ADDR=f"10.0.1.{n}").status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]
