"""The helper that starts real Celery workers leaves no process behind, whatever happens, and its workers take only
the tasks of their own test."""

import subprocess
import time
import uuid

import pytest
import redis

from config.celery import app
from config.queues import Queue
from tests import processes
from tests.workers import real_broker, running_worker

QUEUE = Queue.INDICATORS.value


def _alive(name: str) -> list[int]:
    """The worker named `name` and its pool processes, by their command line."""
    found = subprocess.run(["pgrep", "-f", f"{name}@"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def test_a_worker_not_ready_in_time_fails_the_test_and_leaves_no_process_behind(tmp_path, monkeypatch):
    name = f"late-{uuid.uuid4().hex}"
    monkeypatch.setattr(processes, "READY_SECONDS", 0.5)

    not_ready = pytest.raises(pytest.fail.Exception, match=f"worker {name} not ready within 0.5 s")
    with real_broker(), not_ready, running_worker(QUEUE, tmp_path / "worker.log", name=name):
        pass

    assert _alive(name) == []


def test_a_worker_is_stopped_with_its_pool_when_the_test_inside_fails(tmp_path):
    name = f"failing-{uuid.uuid4().hex}"

    failing = pytest.raises(AssertionError, match="the test failed")
    with real_broker(), failing, running_worker(QUEUE, tmp_path / "worker.log", name=name) as worker:
        assert len(_alive(name)) == 2, "the worker and its one pool process"
        raise AssertionError("the test failed")

    assert worker.returncode is not None
    assert _alive(name) == []


def test_a_worker_takes_no_task_sent_under_another_tests_broker(tmp_path):
    log = tmp_path / "worker.log"
    with real_broker(), running_worker(QUEUE, log, name=f"left-{uuid.uuid4().hex}"):
        with real_broker():  # the next test's, while this worker is still running
            app.send_task("indicators.dispatch", ("1h",), queue=QUEUE)
            prefix = app.conf.broker_transport_options["global_keyprefix"]
            time.sleep(3)  # TRICKY: the worker polls its queue continuously; 3 s is many polls

            assert redis.Redis.from_url(app.conf.broker_url).llen(f"{prefix}{QUEUE}") == 1
        assert "Received task" not in log.read_text()
