"""The OpenAPI schema against a running server: whatever schemathesis sends, no 5xx and no answer the schema does
not describe (4xx in the one error format included)."""

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.screener.conftest import coin

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def api_schema(live_server, transactional_db):
    coin("BTCUSDT", price=97000, market_cap=1.9e12, rank=1, name="Bitcoin", snapshots={"1h": {"rsi_14": 55.0}})
    coin("ETHUSDT", price=3500, snapshots={"1h": {"rsi_14": None}, "4h": {"rsi_14": 20.0}})
    return schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")


@pytest.fixture
def user(transactional_db) -> User:
    return User.objects.create_user("schemathesis", password="pw")


def test_the_api_answers_as_its_schema_says(api_schema, user):
    # Each operation in turn (schemathesis' own pytest plugin does not run on pytest 9).
    for result in api_schema.get_all_operations():
        operation = result.ok()
        # A token for each: POST /api/v1/auth/token/revoke/ revokes it for every operation after.
        token = Token.objects.get_or_create(user=user)[0].key

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def answers_as_described(case, token: str) -> None:
            case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

        answers_as_described(token=token)
