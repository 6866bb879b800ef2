"""Processes the tests start (Celery workers, daphne, `manage.py` commands): each in a session of its own, so that it
and whatever it starts (Celery's pool) are stopped as one process group when the test leaves it, whatever happened."""

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent
# A Celery worker or daphne took over 30 s to be ready on a 2-core machine busy with other work.
READY_SECONDS = 120
# Time to stop (a worker finishes its task) before SIGKILL.
STOP_SECONDS = 30


@contextmanager
def process_group(
    command: list[str], log: Path, environment: dict[str, str], *, stop_seconds: float = STOP_SECONDS
) -> Iterator[subprocess.Popen]:
    """`command` in a session of its own, its output in `log`; its whole group is stopped when the block ends."""
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    try:
        yield process
    finally:
        group_stop(process, stop_seconds)


def group_stop(process: subprocess.Popen, seconds: float) -> None:
    """SIGTERM to the process, then SIGKILL to whatever is left of its group once it has ended or `seconds` passed."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=seconds)
    with contextlib.suppress(ProcessLookupError):  # the whole group has ended
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_ready(process: subprocess.Popen, condition: Callable[[], object], log: Path, what: str) -> None:
    """Poll until `condition` holds; fails with the log's tail if the process ends first or READY_SECONDS pass (the
    caller's `process_group` then stops it)."""
    ready = wait_until(lambda: process.poll() is not None or condition(), READY_SECONDS)
    if not ready or process.poll() is not None:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        pytest.fail(f"{what} not ready within {READY_SECONDS} s (exit code {process.poll()}):\n{tail}")
