from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from apps.alerts.api.serializers import AlertEventSerializer, AlertRuleSerializer, WatchlistSerializer
from apps.alerts.models import Watchlist
from apps.alerts.selectors import alert_event_list, alert_rule_list


class WatchlistViewSet(viewsets.ModelViewSet):
    """The signed-in user's watchlists; another user's are not found, whoever asks."""

    serializer_class = WatchlistSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return Watchlist.objects.filter(owner_id=self.request.user.pk).prefetch_related("symbols")

    def perform_create(self, serializer: WatchlistSerializer) -> None:
        serializer.save(owner=self.request.user)


class AlertRuleViewSet(viewsets.ModelViewSet):
    """The signed-in user's alert rules; another user's are not found, whoever asks."""

    serializer_class = AlertRuleSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return alert_rule_list(owner_id=self.request.user.pk)

    def perform_create(self, serializer: AlertRuleSerializer) -> None:
        serializer.save(owner=self.request.user)


class AlertEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in user's alert history, newest first, with each delivery's status."""

    serializer_class = AlertEventSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return alert_event_list(user_id=self.request.user.pk)
