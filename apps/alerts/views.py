"""The alerts page of the dashboard: the signed-in user's rules and events. The page reads and writes them through
the API (`/api/v1/alerts/`, `/api/v1/alert-events/`) and hears new events on `/ws/alerts/`; the view only hands it
the choices the API validates against."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.alerts.models import AlertRule
from apps.screener.fields import indicator_fields


@login_required
def alerts_page(request: HttpRequest) -> HttpResponse:
    # Each kind with the condition fields it reads (the form shows only those), as the model's validation has them.
    kinds = [(kind.value, kind.label, " ".join(sorted(AlertRule.KIND_FIELDS[kind]))) for kind in AlertRule.Kind]
    context = {
        "kinds": kinds,
        "targets": AlertRule.Target.choices,
        "operators": AlertRule.Operator.choices,
        "timeframes": settings.INDICATORS_TIMEFRAMES,
        "indicator_fields": sorted(indicator_fields()),
    }
    return render(request, "dashboard/alerts.html", context)
