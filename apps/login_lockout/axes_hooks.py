"""What django-axes calls to count and refuse password guesses (settings: LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES):
the client's address, the page a locked-out sign-in gets, and the API's answer."""

import math

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

LOCKED_OUT = "Too many failed sign-ins for this account or from this address."


def client_address(request: HttpRequest) -> str | None:
    """The address failures are counted by: behind API_NUM_PROXIES proxies the client's own from X-Forwarded-For, as
    the API's throttles count, else REMOTE_ADDR. Without that setting X-Forwarded-For is ignored (DRF would take it
    whole): a client could otherwise claim a new address with every guess."""
    if not api_settings.NUM_PROXIES:
        return request.META.get("REMOTE_ADDR")
    return BaseThrottle().get_ident(request)


def _cool_off_seconds(request) -> int:
    return int(get_cool_off(request).total_seconds())


def lockout_page(request: HttpRequest, original_response: HttpResponse, credentials: dict | None) -> HttpResponse:
    """A locked-out sign-in on an HTML page (the dashboard's, the admin's): 429, and when to try again."""
    seconds = _cool_off_seconds(request)
    context = {"message": LOCKED_OUT, "minutes": math.ceil(seconds / 60)}
    response = render(request, "login_lockout/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def api_sign_in_throttled(sender, request, **kwargs) -> None:
    """axes' `user_locked_out` receiver. DRF views hand authenticate() their own Request, on which axes sets the
    lockout flag that AxesMiddleware, holding Django's request, never sees: the view would answer a locked-out
    sign-in like a wrong password (400). Raised here, it becomes the API's 429 with Retry-After."""
    if isinstance(request, Request):
        raise Throttled(wait=_cool_off_seconds(request), detail=LOCKED_OUT)
