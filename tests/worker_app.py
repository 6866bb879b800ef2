"""The Celery app of the tests' worker processes: production's, on the broker keys of the `real_broker` block that
started it, and ending with the test run even if that is killed outright (no teardown ran)."""

import os
import signal

from billiard.util import set_pdeathsig

from config.celery import app

BROKER_KEYPREFIX = "TEST_BROKER_KEYPREFIX"

app.conf.broker_transport_options = app.conf.broker_transport_options | {
    "global_keyprefix": os.environ[BROKER_KEYPREFIX]
}
# Its pool processes die with it (Celery sets theirs); a worker left running would take later runs' tasks.
set_pdeathsig(signal.SIGKILL)
