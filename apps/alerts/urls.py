"""The alerts page (the API is in apps.alerts.api.urls)."""

from django.urls import path

from apps.alerts.views import alerts_page

urlpatterns = [path("alerts/", alerts_page, name="dashboard-alerts")]
