from django.urls import path

from apps.monitoring.views import health, metrics

urlpatterns = [
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
]
