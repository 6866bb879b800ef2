"""The legacy `Token` (`POST /api/v1/auth/token/`): its clients keep working until its owner revokes it."""

import pytest
from rest_framework.authtoken.models import Token

from tests.alerts.factories import UserFactory

pytestmark = pytest.mark.django_db

PRIVATE = "/api/v1/watchlists/"


def test_an_old_token_works_until_its_owner_revokes_it(client):
    token = Token.objects.create(user=UserFactory())
    headers = {"Authorization": f"Token {token.key}"}
    assert client.get(PRIVATE, headers=headers).status_code == 200

    revoked = client.post("/api/v1/auth/token/revoke/", headers=headers)

    assert revoked.status_code == 204
    assert client.get(PRIVATE, headers=headers).status_code == 401
