from django.urls import path

from apps.alerts.consumers import AlertsConsumer
from apps.market.consumers import StreamConsumer

websocket_urlpatterns = [path("ws/stream/", StreamConsumer.as_asgi()), path("ws/alerts/", AlertsConsumer.as_asgi())]
