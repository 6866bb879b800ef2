"""Expiring sign-in for programs and the dashboard: a short-lived access token and a refresh token that is good
once (each refresh answers a new one), all revoked when the password changes."""

from datetime import timedelta

import jwt
import pytest
from rest_framework_simplejwt.tokens import AccessToken

from tests.alerts.factories import UserFactory

pytestmark = pytest.mark.django_db

OBTAIN = "/api/v1/auth/jwt/"
REFRESH = "/api/v1/auth/jwt/refresh/"
PRIVATE = "/api/v1/watchlists/"  # any endpoint that needs a signed-in user


@pytest.fixture
def alice():
    return UserFactory(username="alice")


def obtain(client, password: str = "pw"):
    return client.post(OBTAIN, {"username": "alice", "password": password}, content_type="application/json")


def refresh(client, refresh_token: str):
    return client.post(REFRESH, {"refresh": refresh_token}, content_type="application/json")


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def test_a_user_gets_an_access_token_for_their_password_and_reads_with_it(client, alice):
    tokens = obtain(client).json()

    assert client.get(PRIVATE, headers=bearer(tokens["access"])).status_code == 200


def test_a_wrong_password_gets_no_tokens(client, alice):
    response = obtain(client, password="guess")

    assert response.status_code == 401
    assert "access" not in response.json()


def test_an_access_token_lives_as_long_as_the_setting_says(client, alice):
    claims = jwt.decode(obtain(client).json()["access"], options={"verify_signature": False})

    assert claims["exp"] - claims["iat"] == 300


def test_an_expired_access_token_is_refused(client, alice):
    access = AccessToken.for_user(alice)
    access.set_exp(lifetime=timedelta(seconds=-1))

    response = client.get(PRIVATE, headers=bearer(str(access)))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_a_refresh_token_gives_a_new_access_token_and_a_new_refresh_token(client, alice):
    tokens = obtain(client).json()

    refreshed = refresh(client, tokens["refresh"]).json()

    assert refreshed["refresh"] != tokens["refresh"]
    assert client.get(PRIVATE, headers=bearer(refreshed["access"])).status_code == 200


def test_a_refresh_token_is_good_once(client, alice):
    tokens = obtain(client).json()
    refresh(client, tokens["refresh"])

    response = refresh(client, tokens["refresh"])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_changing_the_password_revokes_the_access_tokens_issued_before(client, alice):
    access = obtain(client).json()["access"]

    alice.set_password("new-pw")
    alice.save(update_fields=["password"])

    assert client.get(PRIVATE, headers=bearer(access)).status_code == 401


def test_changing_the_password_revokes_the_refresh_tokens_issued_before(client, alice):
    refresh_token = obtain(client).json()["refresh"]

    alice.set_password("new-pw")
    alice.save(update_fields=["password"])

    assert refresh(client, refresh_token).status_code == 401


def test_a_refresh_token_is_no_access_token(client, alice):
    refresh_token = obtain(client).json()["refresh"]

    assert client.get(PRIVATE, headers=bearer(refresh_token)).status_code == 401
