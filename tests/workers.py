"""Real Celery workers, for the tests about what the broker delivers: processes working on the test database and
Redis, as in production."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.celery import app
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def real_broker(*queues: str) -> Iterator[None]:
    """Tasks go to the Redis broker (the suite otherwise runs them in-process), `queues` emptied first."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    with app.connection_for_write() as broker:
        for queue in queues:
            broker.default_channel.queue_purge(queue)
    try:
        yield
    finally:
        app.conf.task_always_eager = eager


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


def worker_start(queue: str, log: Path, *, name: str = "worker", environment: dict | None = None) -> subprocess.Popen:
    """One worker process (one task at a time) on `queue`, its output in `log`; returns once it is ready."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1", "-n", f"{name}@%h",
             "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=environment or worker_environment(), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    assert wait_until(lambda: "ready" in log.read_text(), 30), f"worker {name} started"
    return process


def worker_stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
