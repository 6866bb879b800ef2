"""One error format for every 4xx answer of the API: {"error": {"status", "code", "message", "fields"}}."""

import logging

from django.http import Http404
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def _message(detail: object) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):  # Django's own, raised by get_object_or_404 in generic views
        exc = NotFound()
    response.data = error_body(exc, response.status_code)
    logger.info(
        "API %s %s: %s", response.status_code, context["request"].get_full_path(), response.data["error"]["message"]
    )
    return response


def error_body(exc: APIException, status: int) -> dict:
    fields = exc.detail if isinstance(exc, ValidationError) and isinstance(exc.detail, dict) else {}
    code = getattr(exc, "default_code", "error")
    return {"error": {"status": status, "code": code, "message": _message(exc.detail), "fields": fields}}
