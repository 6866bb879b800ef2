"""Operations on chosen symbols started from the admin: backfill, gap fill and metadata sync. Each is an OperationRun
row, created queued; its Celery task runs it and records how it went (succeeded or failed, and what it did)."""

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.market.binance.archive import BinanceArchive
from apps.market.binance.rest import Banned, BinanceRest
from apps.market.models import OperationRun, Symbol
from apps.market.selectors import candles_first_open_time
from apps.market.services.backfill import Sources, last_settled_minute, symbol_backfill
from apps.market.services.metadata import coin_metadata_sync
from apps.market.transport import TransportError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    message: str


def operation_create(*, kind: OperationRun.Kind, symbols: Iterable[Symbol]) -> OperationRun:
    """A queued operation; its task id is chosen here so that the row links to the task before it is sent."""
    names = sorted(symbol.symbol for symbol in symbols)
    return OperationRun.objects.create(kind=kind, symbols=names, task_id=str(uuid.uuid4()))


def operation_run(*, operation_id: int) -> None:
    """Run a queued operation and record its outcome. A redelivered task (its worker died) runs it again, which is
    harmless: backfills fetch only what is missing and a metadata sync rewrites the same values. A finished
    operation is never run twice."""
    running = OperationRun.Status.QUEUED, OperationRun.Status.RUNNING
    started = OperationRun.objects.filter(pk=operation_id, status__in=running)
    if not started.update(status=OperationRun.Status.RUNNING, started_at=timezone.now()):
        logger.info("operation %d has finished already", operation_id)
        return
    operation = OperationRun.objects.get(pk=operation_id)
    try:
        outcome = WORK[operation.kind](list(Symbol.objects.filter(symbol__in=operation.symbols)))
    except TransportError as error:
        logger.error("%s failed: %s", operation, error)
        outcome = Outcome(False, f"{error.__class__.__name__}: {error}")
    except Exception as error:
        # Recorded for the operator, logged with its traceback for us; the task itself ends quietly.
        logger.exception("%s failed", operation)
        outcome = Outcome(False, f"{error.__class__.__name__}: {error}")
    operation.status = OperationRun.Status.SUCCEEDED if outcome.succeeded else OperationRun.Status.FAILED
    operation.message = outcome.message
    operation.finished_at = timezone.now()
    operation.save(update_fields=["status", "message", "finished_at"])


def _backfill(symbols: list[Symbol], since: Callable[[Symbol, datetime], datetime | None]) -> Outcome:
    until = last_settled_minute(datetime.now(UTC))
    lines, succeeded = [], True
    rest, archive = BinanceRest(), BinanceArchive()
    try:
        for symbol in symbols:
            start = since(symbol, until)
            if start is None:
                lines.append(f"{symbol}: no candles stored, no gaps to fill")
                continue
            try:
                report = symbol_backfill(symbol=symbol, since=start, until=until, sources=Sources(rest, archive))
            except TransportError as error:
                lines.append(f"{symbol}: failed: {error}")
                succeeded = False
                if isinstance(error, Banned):
                    break  # nothing may be sent until the ban is over
            else:
                lines.append(str(report))
    finally:
        rest.close()
        archive.close()
    return Outcome(succeeded, "\n".join(lines))


def _history_backfill(symbols: list[Symbol]) -> Outcome:
    return _backfill(symbols, lambda symbol, until: until - timedelta(days=settings.MARKET_HISTORY_DAYS))


def _gap_fill(symbols: list[Symbol]) -> Outcome:
    """Only the holes after each symbol's first stored candle, like `manage.py backfill --fill-gaps`."""
    return _backfill(symbols, lambda symbol, until: candles_first_open_time(symbol=symbol))


def _metadata_sync(symbols: list[Symbol]) -> Outcome:
    report = coin_metadata_sync(base_assets=[symbol.base_asset for symbol in symbols])
    return Outcome(not (report.off or report.skipped_locked or report.failed), str(report))


WORK: dict[str, Callable[[list[Symbol]], Outcome]] = {
    OperationRun.Kind.BACKFILL: _history_backfill,
    OperationRun.Kind.GAP_FILL: _gap_fill,
    OperationRun.Kind.METADATA_SYNC: _metadata_sync,
}
