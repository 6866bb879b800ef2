"""Real Celery workers, for the tests about what the broker delivers: processes working on the test database and
Redis, as in production."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

from config.celery import app
from tests.processes import ROOT, process_group, wait_ready

__all__ = ["ROOT", "real_broker", "running_worker", "worker_environment"]

BROKER_KEYPREFIX = "TEST_BROKER_KEYPREFIX"  # read by tests/worker_app.py


@contextmanager
def real_broker() -> Iterator[None]:
    """Tasks go to the Redis broker (the suite otherwise runs them in-process), under broker keys of this block's own:
    no worker of another test (nor of another run on the same Redis) takes them, and they are deleted after."""
    eager, options = app.conf.task_always_eager, app.conf.broker_transport_options
    prefix = f"test-broker-{uuid.uuid4().hex}:"
    app.conf.task_always_eager = False
    _broker_options_set(options | {"global_keyprefix": prefix})
    try:
        yield
    finally:
        app.conf.task_always_eager = eager
        _broker_options_set(options)
        broker = redis.Redis.from_url(app.conf.broker_url)
        for key in broker.scan_iter(f"{prefix}*"):
            broker.delete(key)


def _broker_options_set(options: dict) -> None:
    app.conf.broker_transport_options = options
    # TRICKY: the connection and producer pools keep the options they were made with; Celery forgets both so after a
    # fork (`Celery._after_fork`), which we cannot call here as it also sends `on_after_fork`. kombu keeps each pool
    # by its connection's options: the suite's own comes back after the block, open.
    app._pool = None
    app.amqp._producer_pool = None


def worker_environment(**extra: str) -> dict[str, str]:
    """A worker's environment: the test database (committed rows only: tests use transactional databases) and the
    suite's Redis, plus `extra` settings."""
    database = connection.settings_dict
    return (
        os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
        }
        | extra
    )


@contextmanager
def running_worker(
    queue: str, log: Path, *, name: str = "worker", environment: dict | None = None
) -> Iterator[subprocess.Popen]:
    """One worker process (one task at a time) on `queue` of the enclosing `real_broker`, its output in `log`; yields
    it once ready, and stops it with its pool when the block ends, whatever happened."""
    prefix = app.conf.broker_transport_options.get("global_keyprefix")
    assert prefix, "workers take tasks only inside `real_broker()`"
    command = [sys.executable, "-m", "celery", "-A", "tests.worker_app", "worker", "-Q", queue, "-c", "1",
               "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"]  # fmt: skip
    environment = (environment or worker_environment()) | {BROKER_KEYPREFIX: prefix}
    with process_group(command, log, environment) as process:
        wait_ready(process, lambda: "ready" in log.read_text(), log, f"worker {name}")
        yield process
