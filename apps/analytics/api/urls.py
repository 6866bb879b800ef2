from django.urls import re_path

from apps.analytics.api.views import CorrelationView, PairsView

urlpatterns = [
    re_path(r"^pairs/?$", PairsView.as_view(), name="analytics-pairs"),
    re_path(r"^correlation/?$", CorrelationView.as_view(), name="analytics-correlation"),
]
