from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("apps.monitoring.urls")),
    path("api/v1/", include("apps.market.api.urls")),
]
