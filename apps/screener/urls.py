"""The dashboard's pages (the API is in apps.screener.api.urls)."""

from django.urls import path, re_path

from apps.screener.views import screener_page, symbol_page

urlpatterns = [
    path("", screener_page, name="dashboard-screener"),
    re_path(r"^s/(?P<symbol>[A-Za-z0-9]{2,32})/$", symbol_page, name="dashboard-symbol"),
]
