from django.urls import path

from apps.telegram.api.views import LinkCodeView

urlpatterns = [path("telegram/link-code/", LinkCodeView.as_view(), name="telegram-link-code")]
