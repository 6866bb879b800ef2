from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.market.api.serializers import KlinesQuerySerializer, kline_row
from apps.market.models import Symbol
from apps.market.selectors import klines_aggregate

# Binance's kline arrays: open time, open, high, low, close, volume, close time, quote volume, trades, taker buy
# volume, taker buy quote volume, ignore; times and trades are integers, the rest decimal strings.
KLINE_ROW_SCHEMA = {
    "type": "array",
    "items": {
        "type": "array",
        "minItems": 12,
        "maxItems": 12,
        "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    },
}


class KlinesView(APIView):
    """Candles of any Binance interval, rolled up in the database from the stored 1m candles."""

    @extend_schema(parameters=[KlinesQuerySerializer], responses={200: KLINE_ROW_SCHEMA})
    def get(self, request: Request, symbol: str) -> Response:
        query = KlinesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        # A NUL byte, which PostgreSQL text cannot hold, is in no stored name.
        found = None if "\x00" in symbol else Symbol.objects.filter(symbol=symbol.upper()).first()
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
