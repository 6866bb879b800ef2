from django.urls import re_path

from apps.market.api.views import KlinesView

urlpatterns = [
    re_path(r"^klines/(?P<symbol>[^/]+)/?$", KlinesView.as_view(), name="klines"),
]
