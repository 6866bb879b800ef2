from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from apps.strategies.api.serializers import SignalQuerySerializer, SignalSerializer, StrategySerializer
from apps.strategies.models import Strategy
from apps.strategies.selectors import signal_list
from config.api import ReadOpenOrAuthenticated


class ReadOpenStaffWrites(ReadOpenOrAuthenticated):
    """Read like market data; only staff write, since a strategy is market-wide."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and (request.method in SAFE_METHODS or request.user.is_staff)


class StrategyViewSet(viewsets.ModelViewSet):
    """The strategies evaluated after every snapshot update; conditions as described in the README."""

    queryset = Strategy.objects.order_by("name")
    serializer_class = StrategySerializer
    permission_classes = [ReadOpenStaffWrites]
    lookup_value_regex = r"\d+"


class SignalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """What the strategies found, newest first."""

    serializer_class = SignalSerializer

    def get_queryset(self):
        query = SignalQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        return signal_list(symbol_id=params.get("symbol"), strategy_id=params.get("strategy"),
                           timeframe=params.get("timeframe"), since=params.get("since"))  # fmt: skip

    @extend_schema(summary="Signals, newest first", parameters=[SignalQuerySerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)
