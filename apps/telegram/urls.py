from django.urls import path

from apps.telegram.webhook import webhook

urlpatterns = [path("webhook/", webhook, name="telegram-webhook")]
