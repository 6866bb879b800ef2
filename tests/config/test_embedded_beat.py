import time

import pytest

from apps.market.models import Symbol
from config.embedded_beat import EmbeddedBeat
from tests.conftest import service_pointed_at


@pytest.mark.django_db(transaction=True)
def test_the_embedded_beat_runs_the_beat_schedule_in_process(exchange, settings):
    service_pointed_at(exchange, settings)
    settings.CELERY_BEAT_SCHEDULE = {"sync": {"task": "market.sync_symbols", "schedule": 3600.0}}
    beat = EmbeddedBeat()

    beat.start()
    deadline = time.monotonic() + 20
    while not Symbol.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    beat.stop()
    beat.join(timeout=10)

    assert list(Symbol.objects.values_list("symbol", flat=True)) == ["BTCUSDT"]
    assert not beat.is_alive()
