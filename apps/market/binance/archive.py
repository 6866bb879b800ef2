"""Binance's public kline archive (data.binance.vision layout): whole days and months of 1m candles as zipped CSV.

Far faster than paging REST for long histories and free of request weight. Base URL: settings.BINANCE_ARCHIVE_URL.
A file that is not (yet) published answers 404: the caller falls back to REST. Each file is checked against its
published SHA-256 before a row is read.
"""

import csv
import hashlib
import io
import logging
import zipfile
from datetime import date

import httpx
from django.conf import settings

from apps.market.transport import TransportError

logger = logging.getLogger(__name__)


class ArchiveError(TransportError):
    pass


class BinanceArchive:
    def __init__(self, *, base_url: str | None = None) -> None:
        self.base_url = (base_url or settings.BINANCE_ARCHIVE_URL).rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=settings.BINANCE_REQUEST_TIMEOUT * 6)

    def close(self) -> None:
        self._http.close()

    def daily_klines(self, *, symbol: str, day: date) -> list[list[str]] | None:
        name = f"{symbol}-1m-{day:%Y-%m-%d}"
        return self._klines(f"/data/spot/daily/klines/{symbol}/1m/{name}.zip", name)

    def monthly_klines(self, *, symbol: str, year: int, month: int) -> list[list[str]] | None:
        name = f"{symbol}-1m-{year:04d}-{month:02d}"
        return self._klines(f"/data/spot/monthly/klines/{symbol}/1m/{name}.zip", name)

    def _klines(self, path: str, name: str) -> list[list[str]] | None:
        """The file's CSV rows, or None when the archive has no such file."""
        archive = self._download(path)
        if archive is None:
            return None
        checksum = self._download(f"{path}.CHECKSUM")
        if checksum is None:
            raise ArchiveError(f"{path}: published without a CHECKSUM file")
        expected = checksum.decode().split()[0].lower()
        if hashlib.sha256(archive).hexdigest() != expected:
            raise ArchiveError(f"{path}: SHA-256 does not match its CHECKSUM file")
        return _csv_rows(archive, f"{name}.csv")

    def _download(self, path: str) -> bytes | None:
        try:
            response = self._http.get(path)
        except httpx.TransportError as error:
            raise ArchiveError(f"{path}: {error.__class__.__name__}: {error}") from error
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise ArchiveError(f"{path}: HTTP {response.status_code}", permanent=response.status_code < 500)
        return response.content


def _csv_rows(archive: bytes, member: str) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped, zipped.open(member) as raw:
            rows = list(csv.reader(io.TextIOWrapper(raw, encoding="utf-8")))
    except (zipfile.BadZipFile, KeyError) as error:
        raise ArchiveError(f"{member}: unreadable archive: {error}", permanent=True) from error
    # Some archive files start with a header line; a kline row starts with a number.
    return [row for row in rows if row and row[0].isdigit()]
