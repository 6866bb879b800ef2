from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.market.api.serializers import KlinesQuerySerializer, kline_row
from apps.market.models import Symbol
from apps.market.selectors import klines_aggregate


class KlinesView(APIView):
    """Candles of any Binance interval, rolled up in the database from the stored 1m candles."""

    def get(self, request: Request, symbol: str) -> Response:
        query = KlinesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = Symbol.objects.filter(symbol=symbol.upper()).first()
        if found is None:
            raise ValidationError({"symbol": [f"Unknown symbol {symbol!r}."]})
        params = query.validated_data
        klines = klines_aggregate(
            symbol=found,
            interval=params["interval"],
            start_ms=params.get("start"),
            end_ms=params.get("end"),
            limit=params["limit"],
        )
        return Response([kline_row(kline) for kline in klines])
