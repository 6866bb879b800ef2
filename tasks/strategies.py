"""Strategy tasks: after every snapshot update (a shard's full computation, or the streamer's minute) one
`evaluate` of the symbols and timeframes it wrote, on the `strategies` queue. Evaluating a candle again stores and
announces nothing twice (signals are unique per candle), so a retried or redelivered task is harmless.
"""

from django.db import OperationalError

from apps.strategies.services import signals_evaluate
from config.celery import app


@app.task(name="strategies.evaluate", autoretry_for=(OperationalError,), retry_backoff=1, retry_backoff_max=30,
          max_retries=5)  # fmt: skip
def evaluate(symbol_ids: list[int], timeframes: list[str]) -> None:
    signals_evaluate(symbol_ids=symbol_ids, timeframes=timeframes)
