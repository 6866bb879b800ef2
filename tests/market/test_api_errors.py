"""The API's one error format ({"error": {"status", "code", "message", "fields"}}) for every 4xx under /api/,
including those Django answers before any API view runs."""

import pytest

from tests.alerts.factories import UserFactory

pytestmark = pytest.mark.django_db


def api_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


def test_an_unknown_path_under_the_api_is_a_404_in_the_error_format(client):
    assert api_error(client.get("/api/v1/nonesuch/"), 404) == {
        "status": 404,
        "code": "not_found",
        "message": "No such endpoint: /api/docs/ lists them.",
        "fields": {},
    }


def test_an_id_that_is_not_an_integer_is_a_404_in_the_error_format(client):
    assert api_error(client.get("/api/v1/strategies/abc/"), 404)["code"] == "not_found"


def test_a_request_for_another_host_is_a_400_in_the_error_format(client):
    assert api_error(client.get("/api/v1/symbols/", headers={"host": "evil.example"}), 400)["code"] == "parse_error"


def test_outside_the_api_an_unknown_page_is_still_djangos_page(client):
    response = client.get("/nonesuch/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_json_nested_too_deep_to_read_is_a_400_in_the_error_format(client):
    client.force_login(UserFactory())

    error = api_error(client.post("/api/v1/alerts/", "[" * 100_000, content_type="application/json"), 400)

    assert error["message"] == "JSON parse error - nested too deep"


def test_an_empty_multipart_post_names_the_missing_fields(client):
    client.force_login(UserFactory())

    error = api_error(client.post("/api/v1/alerts/", b"", content_type="multipart/form-data; boundary=x"), 400)

    assert error["fields"] == {"kind": ["This field is required."]}


def test_a_multipart_post_without_a_boundary_is_told_the_boundary_is_missing(client):
    client.force_login(UserFactory())

    error = api_error(client.post("/api/v1/alerts/", b"--x--\r\n", content_type="multipart/form-data"), 400)

    assert error["message"].startswith("Multipart form parse error - no boundary: send Content-Type: multipart/")
