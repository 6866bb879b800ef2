from django.conf import settings
from django.db import migrations

from apps.market import timescale


def hourly_hypertable_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql" and settings.TIMESCALEDB:
        timescale.hypertable_create(schema_editor.connection, table="market_hourlycandle")


class Migration(migrations.Migration):
    dependencies = [("market", "0005_default_cmc_symbol_overrides")]

    operations = [migrations.RunPython(hourly_hypertable_create, migrations.RunPython.noop)]
