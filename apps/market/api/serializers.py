from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.market.intervals import INTERVALS
from apps.market.selectors import MAX_MS, Kline


@extend_schema_field(OpenApiTypes.STR)
class EpochOrIsoTimeField(serializers.Field):
    """Binance's epoch milliseconds, or an ISO 8601 time (UTC unless it says otherwise); returns epoch ms."""

    default_error_messages = {
        "invalid": "Give epoch milliseconds or an ISO 8601 time, e.g. 2024-01-01T00:00:00Z.",
        "out_of_range": "Times go from 1970 to 9999.",
    }

    def to_internal_value(self, data: str) -> int:
        if isinstance(data, str) and data.isascii() and data.isdigit():  # not "²", which isdigit() also takes
            ms = int(data)
        else:
            try:
                moment = datetime.fromisoformat(str(data).replace("Z", "+00:00"))
                ms = int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)
            except (ValueError, OverflowError):
                self.fail("invalid")
        if not 0 <= ms <= MAX_MS:
            self.fail("out_of_range")
        return ms


class KlinesQuerySerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=list(INTERVALS), default="1h")
    start = EpochOrIsoTimeField(required=False)
    end = EpochOrIsoTimeField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=500)

    def validate(self, attrs: dict) -> dict:
        if "start" in attrs and "end" in attrs and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"start": ["start is after end."]})
        attrs["interval"] = INTERVALS[attrs["interval"]]
        return attrs


def kline_row(kline: Kline) -> list:
    """Binance's 12-column kline array, decimals as 8-place strings, so that any Binance client can read it."""

    def text(value) -> str:
        return f"{value:.8f}"

    return [kline.open_time, text(kline.open), text(kline.high), text(kline.low), text(kline.close),
            text(kline.volume), kline.close_time, text(kline.quote_volume), kline.trades,
            text(kline.taker_buy_volume), text(kline.taker_buy_quote_volume), "0"]  # fmt: skip
