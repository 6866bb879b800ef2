"""The analytics answers with real numbers (the schema-wide run in tests/screener/test_openapi.py has no candles, so
it only sees the 400s) against the OpenAPI schema."""

import pytest
import schemathesis
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from tests.analytics.conftest import store, up_to_the_hour_shift


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/analytics/pairs/", {"a": "BTCUSDT", "b": "ETHUSDT", "window": "24"}),
        ("/api/v1/analytics/pairs/", {"a": "BTCUSDT", "b": "BNBUSDT", "window": "24"}),  # BNB flat: nulls
        ("/api/v1/analytics/correlation/", {"symbols": "BTCUSDT,ETHUSDT", "window": "48"}),
    ],
)
def test_the_answers_with_numbers_conform_to_the_schema(live_server, transactional_db, path, query):
    shift = up_to_the_hour_shift()
    store("BTCUSDT", shift=shift)
    store("ETHUSDT", shift=shift)
    store("BNBUSDT", shift=shift, flat_hours=14 * 24 - 48)
    operation = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")[path]["GET"]

    response = operation.Case(query=query).call_and_validate(
        checks=[response_schema_conformance, status_code_conformance, content_type_conformance]
    )

    assert response.status_code == 200
