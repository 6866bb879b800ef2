"""The embedded default's stand-in for `celery beat`: the same CELERY_BEAT_SCHEDULE, run in a thread of the web
process. With no broker, tasks run eagerly, so they execute here, through the same task code as in production.
"""

import logging
import threading
from datetime import UTC, datetime, timedelta

from celery.schedules import BaseSchedule, schedule
from django.conf import settings
from django.db import close_old_connections, connections

from apps.market.transport import TransportError
from config.celery import app

logger = logging.getLogger(__name__)


class EmbeddedBeat(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="embedded-beat", daemon=True)
        # A worker imports CELERY_IMPORTS at start; this process is no worker, so the task modules load here.
        app.loader.import_default_modules()
        self._stopping = threading.Event()
        self._last_run = {name: NEVER for name in settings.CELERY_BEAT_SCHEDULE}

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
                if _schedule(entry).is_due(self._last_run[name]).is_due:
                    self._last_run[name] = datetime.now(UTC)
                    self._run(name, entry["task"], entry.get("args", ()))
            self._stopping.wait(1.0)
        connections.close_all()

    def _run(self, name: str, task_name: str, args: tuple) -> None:
        # Like a worker between tasks: never carry a broken or expired connection into the next run.
        close_old_connections()
        try:
            app.tasks[task_name].delay(*args)
        except TransportError as error:
            logger.error("scheduled task %s failed: %s", name, error)  # the exchange is unreachable: no traceback
        except Exception:
            # A failed run must not end the schedule: the next one resumes from what is stored.
            logger.exception("scheduled task %s failed", name)


NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def _schedule(entry: dict) -> BaseSchedule:
    """Seconds (run every so often) or a crontab, as in CELERY_BEAT_SCHEDULE."""
    every = entry["schedule"]
    return every if isinstance(every, BaseSchedule) else schedule(timedelta(seconds=every), app=app)
