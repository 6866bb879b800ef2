import pytest

from apps.indicators.models import Snapshot
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db


def test_snapshots_are_listed_read_only_in_the_admin(admin_client):
    snapshot = Snapshot.objects.create(symbol=SymbolFactory(symbol="BTCUSDT"), timeframe="1h",
                                       open_time="2024-01-01T00:00Z", values={"rsi_14": 55.5})  # fmt: skip

    listing = admin_client.get("/admin/indicators/snapshot/")
    change = admin_client.post(f"/admin/indicators/snapshot/{snapshot.pk}/change/", {"timeframe": "4h"})

    assert listing.status_code == 200 and "BTCUSDT" in listing.content.decode()
    assert change.status_code in (302, 403)
    assert Snapshot.objects.get().timeframe == "1h"


def test_beat_schedules_are_editable_in_the_admin(admin_client):
    assert admin_client.get("/admin/django_celery_beat/periodictask/").status_code == 200
