"""Binance spot REST client (public market data only). Base URL: settings.BINANCE_REST_URL.

Every request goes through the shared weight budget. 429: pause everyone for Retry-After, then retry. 418 (banned):
pause everyone and stop with a permanent error, never retry into a ban. 5xx, timeouts and dropped connections:
retried with exponential backoff and jitter.
"""

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings

from apps.market.binance.budget import WeightBudget, shared_budget
from apps.market.transport import TransportError

logger = logging.getLogger(__name__)

KLINES_MAX_LIMIT = 1000
WEIGHT_KLINES = 2
WEIGHT_EXCHANGE_INFO = 20
WEIGHT_TICKER_24H_ALL = 80
BAD_SYMBOL = -1121
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0


class BinanceError(TransportError):
    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None) -> None:
        super().__init__(message, permanent=permanent)
        self.code = code


class UnknownSymbol(BinanceError):
    pass


class Banned(BinanceError):
    """HTTP 418: the IP is banned. Nothing may be sent until `until` (epoch seconds)."""

    def __init__(self, message: str, *, until: float) -> None:
        super().__init__(message, permanent=True)
        self.until = until


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "60")))
    except ValueError:
        return 60.0


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_body(response: httpx.Response) -> tuple[int | None, str]:
    try:
        body = response.json()
        return body.get("code"), body.get("msg", response.text)
    except (ValueError, AttributeError):
        return None, response.text[:200]


class BinanceRest:
    def __init__(
        self,
        *,
        base_url: str | None = None,
        budget: WeightBudget | None = None,
        max_retries: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (base_url or settings.BINANCE_REST_URL).rstrip("/")
        self.budget = budget or shared_budget()
        self.max_retries = settings.BINANCE_MAX_RETRIES if max_retries is None else max_retries
        self._sleep = sleep
        self._http = httpx.Client(base_url=self.base_url, timeout=settings.BINANCE_REQUEST_TIMEOUT)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "BinanceRest":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def exchange_info(self) -> dict[str, Any]:
        return self._get("/api/v3/exchangeInfo", {}, WEIGHT_EXCHANGE_INFO, expect=dict)

    def tickers_24h(self) -> list[dict[str, Any]]:
        return self._get("/api/v3/ticker/24hr", {}, WEIGHT_TICKER_24H_ALL, expect=list)

    def klines(self, *, symbol: str, start_ms: int, end_ms: int, limit: int = KLINES_MAX_LIMIT) -> list[list]:
        """1m klines with open time in [start_ms, end_ms], oldest first, at most `limit`."""
        params = {"symbol": symbol, "interval": "1m", "startTime": start_ms, "endTime": end_ms, "limit": limit}
        return self._get("/api/v3/klines", params, WEIGHT_KLINES, expect=list)

    def _get(self, path: str, params: dict[str, Any], weight: int, *, expect: type) -> Any:
        for attempt in range(self.max_retries + 1):
            self.budget.acquire(weight)
            try:
                response = self._http.get(path, params=params)
            except httpx.TransportError as error:
                failure = f"{path}: {error.__class__.__name__}: {error}"
            else:
                self._observe_weight(response)
                if response.is_success:
                    body = _json(response)
                    if isinstance(body, expect):
                        return body
                    failure = f"HTTP 200 without a JSON {expect.__name__}: {response.text[:100]!r}"
                else:
                    failure = self._failure(path, response)
            if attempt < self.max_retries:
                delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt) * random.uniform(0.5, 1.0)
                logger.warning("binance %s failed (%s); retry %d in %.1fs", path, failure, attempt + 1, delay)
                self._sleep(delay)
        raise BinanceError(f"{path} failed after {self.max_retries + 1} attempts: {failure}")

    def _observe_weight(self, response: httpx.Response) -> None:
        used = response.headers.get("X-MBX-USED-WEIGHT-1M")
        if used and used.isdigit():
            self.budget.observe(int(used))

    def _failure(self, path: str, response: httpx.Response) -> str:
        """Raise for answers that retrying cannot fix; return a description of a transient one."""
        code, message = _error_body(response)
        if response.status_code == 418:
            seconds = _retry_after(response)
            self.budget.pause(seconds)
            logger.error("binance banned this IP for %.0fs: %s", seconds, message)
            raise Banned(f"{path}: IP banned for {seconds:.0f}s: {message}", until=time.time() + seconds)
        if response.status_code == 429:
            seconds = _retry_after(response)
            self.budget.pause(seconds)
            logger.warning("binance rate limit hit on %s; everyone pauses %.0fs", path, seconds)
            return f"429 rate limited, paused {seconds:.0f}s"
        if response.status_code >= 500:
            return f"HTTP {response.status_code}: {message}"
        if code == BAD_SYMBOL:
            raise UnknownSymbol(f"{path}: {message}", permanent=True, code=code)
        raise BinanceError(f"{path}: HTTP {response.status_code} {code}: {message}", permanent=True, code=code)
