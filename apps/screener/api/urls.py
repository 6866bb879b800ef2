from django.urls import re_path

from apps.screener.api.symbols import IndicatorHistoryView, SymbolDetailView, SymbolListView
from apps.screener.api.views import ScreenerFieldsView, ScreenerView

urlpatterns = [
    re_path(r"^screener/?$", ScreenerView.as_view(), name="screener"),
    re_path(r"^screener/fields/?$", ScreenerFieldsView.as_view(), name="screener-fields"),
    re_path(r"^symbols/?$", SymbolListView.as_view(), name="symbols"),
    re_path(r"^symbols/(?P<symbol>[A-Za-z0-9]{2,32})/?$", SymbolDetailView.as_view(), name="symbol"),
    re_path(r"^indicators/(?P<symbol>[A-Za-z0-9]{2,32})/?$", IndicatorHistoryView.as_view(), name="indicator-history"),
]
