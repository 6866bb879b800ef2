from django.conf import settings
from django.db import migrations

from apps.market import timescale


def history_hypertable_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql" and settings.TIMESCALEDB:
        timescale.hypertable_create(schema_editor.connection, table="indicators_indicatorhistory")


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial"), ("market", "0002_candle_time_indexes")]

    operations = [migrations.RunPython(history_hypertable_create, migrations.RunPython.noop)]
