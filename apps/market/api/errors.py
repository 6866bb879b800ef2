"""One error format for every 4xx answer of the API: {"error": {"status", "code", "message", "fields"}}."""

import logging
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.exceptions import APIException, NotFound, ParseError, PermissionDenied, ValidationError
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


def _api_error_or_page(page: Callable[..., HttpResponse], error: APIException):
    """A handler for the errors Django answers before any API view runs (no URL matched, a path converter refused
    an id, a body too big): under /api/ in the API's format, elsewhere Django's page."""

    def handler(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        if not request.path_info.startswith("/api/"):
            return page(request, exception)
        return JsonResponse(error_body(error, error.status_code), status=error.status_code)

    return handler


bad_request = _api_error_or_page(defaults.bad_request, ParseError())
permission_denied = _api_error_or_page(defaults.permission_denied, PermissionDenied())
page_not_found = _api_error_or_page(defaults.page_not_found, NotFound("No such endpoint: /api/docs/ lists them."))
