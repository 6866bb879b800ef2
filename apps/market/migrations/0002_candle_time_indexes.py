from django.conf import settings
from django.db import migrations

from apps.market import timescale


def time_layout_create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return  # SQLite: the composite primary key index is all the embedded default needs
    if settings.TIMESCALEDB:
        timescale.hypertable_create(connection, table="market_candle")
    else:
        # Candles arrive in time order, so a BRIN index covers market-wide time scans in a few pages.
        schema_editor.execute("CREATE INDEX IF NOT EXISTS market_candle_open_time_brin ON market_candle USING brin (open_time)")


def time_layout_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql" and not settings.TIMESCALEDB:
        schema_editor.execute("DROP INDEX IF EXISTS market_candle_open_time_brin")


class Migration(migrations.Migration):
    dependencies = [("market", "0001_initial")]

    operations = [migrations.RunPython(time_layout_create, time_layout_drop)]
