from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from apps.alerts.api.serializers import WatchlistSerializer
from apps.alerts.models import Watchlist


class WatchlistViewSet(viewsets.ModelViewSet):
    """The signed-in user's watchlists; another user's are not found, whoever asks."""

    serializer_class = WatchlistSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return Watchlist.objects.filter(owner_id=self.request.user.pk).prefetch_related("symbols")

    def perform_create(self, serializer: WatchlistSerializer) -> None:
        serializer.save(owner=self.request.user)
