"""Writes for monitoring: counters that other processes (Celery workers) keep in the cache for /metrics to read."""

from enum import StrEnum

from django.core.cache import cache

TASK_RUNS_KEY = "monitoring:task-runs:{task}:{outcome}"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    RETRY = "retry"


def task_run_count(*, task_name: str, outcome: Outcome) -> None:
    key = TASK_RUNS_KEY.format(task=task_name, outcome=outcome)
    # Never expires: a Prometheus counter only ever grows (and a restarted Redis reads as a counter reset).
    cache.add(key, 0, timeout=None)
    cache.incr(key)
