"""What /metrics exposes: this process's HTTP latencies, and, read at scrape time, what other processes publish
(the streamers' message counters, the workers' task runs) and the broker's queue lengths."""

import logging
from collections.abc import Iterable, Iterator

from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

from apps.monitoring.selectors import queue_lengths, streamer_statuses, task_runs

logger = logging.getLogger(__name__)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

http_request_duration = Histogram(
    "screener_http_request_duration_seconds",
    "HTTP requests by view (URL name), method and status, through the whole middleware stack.",
    ["view", "method", "status"],
)


def request_observe(*, request: HttpRequest, response: HttpResponse, seconds: float) -> None:
    # Labels come only from bounded sets (URL names, known methods): a label per raw path or method would let any
    # client create series without end.
    match = request.resolver_match
    view = match.view_name if match else "unmatched"
    method = request.method if request.method in HTTP_METHODS else "other"
    http_request_duration.labels(view, method, str(response.status_code)).observe(seconds)


class SharedCollector(Collector):
    """Families read from the cache and the broker at each scrape; one source failing leaves out only its own."""

    def describe(self) -> Iterable[Metric]:
        return []  # so that registering reads nothing; the registry then collects on each scrape only

    def collect(self) -> Iterator[Metric]:
        for source in (_streamer, _task_runs, _queue_lengths):
            try:
                families = list(source())
            except Exception as error:
                logger.warning("metrics: %s left out: %r", source.__name__, error)
                continue
            yield from families


def _streamer() -> Iterator[Metric]:
    received = CounterMetricFamily(
        "screener_streamer_messages_received", "Messages received from Binance, by streamer shard.", labels=["shard"]
    )
    dropped = CounterMetricFamily(
        "screener_streamer_messages_dropped",
        "Messages dropped, by streamer shard and reason (duplicate, out_of_order, invalid, unknown_symbol, "
        "error_reply, publication_backlog).",
        labels=["shard", "reason"],
    )
    repairs = SummaryMetricFamily(
        "screener_streamer_repair_duration_seconds",
        "REST repairs of the minutes a stream missed (after a (re)connect, or a hole noticed), by streamer shard.",
        labels=["shard"],
    )
    repaired = CounterMetricFamily(
        "screener_streamer_repaired_minutes", "Candles stored by REST repairs, by streamer shard.", labels=["shard"]
    )
    for shard, status in streamer_statuses().items():
        if status is None:
            continue
        received.add_metric([shard], status["received"])
        for reason, count in sorted(status["dropped"].items()):
            dropped.add_metric([shard, reason], count)
        repairs.add_metric([shard], count_value=status["repairs"]["runs"], sum_value=status["repairs"]["seconds"])
        repaired.add_metric([shard], status["repairs"]["minutes"])
    yield from (received, dropped, repairs, repaired)


def _task_runs() -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "screener_celery_task_runs", "Finished Celery task runs, by task name and outcome.", labels=["task", "outcome"]
    )
    for (task, outcome), count in sorted(task_runs().items()):
        runs.add_metric([task, outcome], count)
    yield runs


def _queue_lengths() -> Iterator[Metric]:
    lengths = queue_lengths()
    if lengths is None:
        return
    family = GaugeMetricFamily(
        "screener_celery_queue_length", "Messages waiting in each Celery queue.", labels=["queue"]
    )
    for queue, length in lengths.items():
        family.add_metric([queue], length)
    yield family


REGISTRY.register(SharedCollector())
