import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from apps.monitoring.selectors import health_checks


@require_GET
@never_cache
async def health(request: HttpRequest) -> JsonResponse:
    """Each check and its status; 503 when any of them is neither ok nor not configured."""
    checks = await health_checks()
    healthy = all(check.healthy for check in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "checks": {
            name: {key: value for key, value in vars(check).items() if value is not None}
            for name, check in checks.items()
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token and not hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
