from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from apps.market import timescale


class Command(BaseCommand):
    help = (
        "Turn a database first migrated on plain PostgreSQL into TimescaleDB's layout: candles, their hourly roll-up"
        " and indicator history become compressed hypertables (existing rows move into chunks). Needs TIMESCALEDB=true"
        " and the extension installed on the server; running it again changes nothing."
    )

    def handle(self, *args: object, **options: object) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(f"TimescaleDB needs PostgreSQL; DATABASE_URL points at {connection.vendor}")
        if not settings.TIMESCALEDB:
            raise CommandError("set TIMESCALEDB=true: the service must know the database uses TimescaleDB")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
            if cursor.fetchone() is None:
                raise CommandError("the timescaledb extension is not installed on the database server")
        with transaction.atomic():
            converted = timescale.timescaledb_enable(connection)
        for table in converted:
            self.stdout.write(f"{table}: now a compressed hypertable")
        if not converted:
            self.stdout.write("nothing to do: every time-series table is a hypertable already")
