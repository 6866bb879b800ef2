from django.conf import settings
from django.db import migrations

from apps.market import timescale


def time_indexes_as_on_plain_postgresql(apps, schema_editor):
    """On TimescaleDB: the hypertables' default time indexes dropped, the candles' BRIN index as on plain PostgreSQL."""
    if schema_editor.connection.vendor != "postgresql" or not settings.TIMESCALEDB:
        return
    timescale.default_time_indexes_drop(schema_editor.connection)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS market_candle_open_time_brin ON market_candle USING brin (open_time)"
    )


class Migration(migrations.Migration):
    dependencies = [("market", "0007_candle_values_as_scaled_integers"), ("indicators", "0002_history_hypertable")]

    operations = [migrations.RunPython(time_indexes_as_on_plain_postgresql, migrations.RunPython.noop)]
