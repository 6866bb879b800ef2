import time
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from apps.monitoring.metrics import request_observe


@sync_and_async_middleware
def request_metrics_middleware(
    get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
) -> Callable:
    """Times each request for /metrics. First in MIDDLEWARE, so that the time includes every other middleware."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            started = time.perf_counter()
            response = await get_response(request)
            request_observe(request=request, response=response, seconds=time.perf_counter() - started)
            return response

    else:

        def middleware(request: HttpRequest) -> HttpResponse:
            started = time.perf_counter()
            response = get_response(request)
            request_observe(request=request, response=response, seconds=time.perf_counter() - started)
            return response

    return middleware
