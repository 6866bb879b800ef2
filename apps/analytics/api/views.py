"""Pairs and correlation analytics: `/analytics/pairs/`, `/analytics/correlation/`."""

import numpy as np
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analytics.api.serializers import (
    CorrelationQuerySerializer,
    CorrelationSerializer,
    PairsQuerySerializer,
    PairsSerializer,
)
from apps.analytics.selectors import correlation_matrix_latest, pair_analysis
from apps.analytics.statistics import AnalysisError
from apps.market.models import Symbol


def _symbols(field: str, names: list[str]) -> list[Symbol]:
    found = {symbol.symbol: symbol for symbol in Symbol.objects.filter(symbol__in=names)}
    unknown = [name for name in names if name not in found]
    if unknown:
        raise ValidationError({field: [f"Unknown symbol {', '.join(map(repr, unknown))}."]})
    return [found[name] for name in names]


def _nullable(values: np.ndarray) -> list[float | None]:
    """JSON has no NaN: an undefined value (window not full, flat window) is null."""
    return [float(value) if np.isfinite(value) else None for value in values.tolist()]


class PairsView(APIView):
    """Hedge ratio, spread, z-score, ADF test, correlation and half-life of two symbols' log closes."""

    @extend_schema(parameters=[PairsQuerySerializer], responses={200: PairsSerializer})
    def get(self, request: Request) -> Response:
        query = PairsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        [a] = _symbols("a", [params["a"].upper()])
        [b] = _symbols("b", [params["b"].upper()])
        try:
            analysis = pair_analysis(a=a, b=b, interval=params["interval"], window=params["window"],
                                     start_ms=params.get("start"), end_ms=params.get("end"),
                                     limit=params["limit"])  # fmt: skip
        except AnalysisError as error:
            raise ValidationError({error.field: [str(error)]}) from error
        stats = analysis.statistics
        adf = stats.adf
        return Response(PairsSerializer({
            "a": a.symbol, "b": b.symbol, "interval": params["interval"].name, "window": params["window"],
            "open_times": analysis.open_times.tolist(), "alpha": stats.alpha, "beta": stats.beta,
            "half_life": stats.half_life,
            "adf": {"statistic": adf.statistic, "p_value": adf.p_value, "lags": adf.lags,
                    "observations": adf.observations, "critical_values": adf.critical_values},
            "spread": _nullable(stats.spread), "hedge_ratio_rolling": _nullable(stats.beta_rolling),
            "zscore": _nullable(stats.zscore), "correlation": _nullable(stats.correlation),
        }).data)  # fmt: skip


class CorrelationView(APIView):
    """The correlation matrix of many symbols' log returns over the last `window` closed candles."""

    @extend_schema(parameters=[CorrelationQuerySerializer], responses={200: CorrelationSerializer})
    def get(self, request: Request) -> Response:
        query = CorrelationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        symbols = _symbols("symbols", params["symbols"])
        try:
            result = correlation_matrix_latest(symbols=symbols, interval=params["interval"], window=params["window"])
        except AnalysisError as error:
            raise ValidationError({error.field: [str(error)]}) from error
        return Response(CorrelationSerializer({
            "symbols": result.symbols, "interval": params["interval"].name, "window": params["window"],
            "start": int(result.open_times[0]), "end": int(result.open_times[-1]), "matrix": result.matrix.tolist(),
        }).data)  # fmt: skip
