"""CoinMarketCap Pro API client (coin metadata only). Base URL: settings.CMC_API_URL; key: settings.CMC_API_KEY.

Requests are spaced to stay under CMC_REQUESTS_PER_MINUTE, the plan's minute limit. Nothing is retried here: the
metadata sync runs daily, and whatever fails keeps its previous values until the next run. Errors carry CMC's
`status.error_code`; a CmcAccountError (key, plan, daily or monthly credits, IP limit) means that no further
request of this run can succeed.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from django.conf import settings

from apps.market.transport import TransportError

TIMEOUT_SECONDS = 15.0
MAP_PAGE_SIZE = 5000  # CMC's maximum; the map of active coins is about 10,000 entries, 1 credit a page
# 1001/1002 invalid or missing key, 1003/1004 plan unpaid or expired, 1005 key required, 1006 endpoint not in the
# plan, 1007 key disabled; 1009/1010 daily/monthly credits used up; 1011 IP rate limit.
ACCOUNT_ERRORS = {1001, 1002, 1003, 1004, 1005, 1006, 1007, 1009, 1010, 1011}
RETRYABLE_ACCOUNT_ERRORS = {1011}  # the others last until the key, the plan or the billing period changes


class CmcError(TransportError):
    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None) -> None:
        super().__init__(message, permanent=permanent)
        self.code = code


class CmcAccountError(CmcError):
    """The key, its plan or its credits: every request would fail the same way."""


def _status(response: httpx.Response) -> tuple[int | None, str]:
    """CMC's `status.error_code` and `status.error_message`, or whatever the body says when it is not CMC's."""
    try:
        status = response.json()["status"]
        return status.get("error_code"), status.get("error_message") or ""
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, response.text[:200]


class CoinMarketCap:
    def __init__(
        self, *, api_key: str | None = None, base_url: str | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.base_url = (base_url or settings.CMC_API_URL).rstrip("/")
        self._interval = 60.0 / settings.CMC_REQUESTS_PER_MINUTE
        self._next_at = 0.0
        self._sleep = sleep
        headers = {"X-CMC_PRO_API_KEY": api_key or settings.CMC_API_KEY, "Accept": "application/json"}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "CoinMarketCap":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def id_map(self) -> list[dict[str, Any]]:
        """Every active coin: `id`, `rank`, `name`, `symbol`, `slug`..., page by page."""
        coins: list[dict[str, Any]] = []
        while True:
            params = {"listing_status": "active", "start": len(coins) + 1, "limit": MAP_PAGE_SIZE}
            page = self._get("/v1/cryptocurrency/map", params, expect=list)
            coins += page
            if len(page) < MAP_PAGE_SIZE:
                return coins

    def quotes_latest(self, *, ids: Sequence[int]) -> dict[str, dict[str, Any]]:
        """Each coin's latest listing (`cmc_rank`, `circulating_supply`, `quote.USD.market_cap`...) by id (a string);
        ids CMC does not know are left out."""
        params = {"id": ",".join(map(str, ids)), "convert": "USD", "skip_invalid": "true"}
        return self._get("/v2/cryptocurrency/quotes/latest", params, expect=dict)

    def info(self, *, ids: Sequence[int]) -> dict[str, dict[str, Any]]:
        """Each coin's `logo` (and name, symbol, slug) by id (a string); unknown ids are left out."""
        params = {"id": ",".join(map(str, ids)), "aux": "logo", "skip_invalid": "true"}
        return self._get("/v2/cryptocurrency/info", params, expect=dict)

    def _get(self, path: str, params: dict[str, Any], *, expect: type) -> Any:
        self._pace()
        try:
            response = self._http.get(path, params=params)
        except httpx.TransportError as error:
            raise CmcError(f"{path}: {error.__class__.__name__}: {error}") from error
        if not response.is_success:
            raise self._error(path, response)
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            data = None
        if not isinstance(data, expect):
            raise CmcError(f"{path}: HTTP 200 without a JSON {expect.__name__} in data: {response.text[:100]!r}")
        return data

    def _pace(self) -> None:
        wait = self._next_at - time.monotonic()
        if wait > 0:
            self._sleep(wait)
        self._next_at = time.monotonic() + self._interval

    def _error(self, path: str, response: httpx.Response) -> CmcError:
        code, message = _status(response)
        description = f"{path}: HTTP {response.status_code} {code}: {message}"
        if code in ACCOUNT_ERRORS or response.status_code in (401, 402, 403):
            return CmcAccountError(description, permanent=code not in RETRYABLE_ACCOUNT_ERRORS, code=code)
        if response.status_code == 429 or response.status_code >= 500:  # 429 1008: the minute's limit
            return CmcError(description, code=code)
        return CmcError(description, permanent=True, code=code)
