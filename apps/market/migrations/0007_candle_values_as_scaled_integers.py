"""Candle values from NUMERIC to exact integers at a scale per row (see Candle and apps.market.candle_values).

PostgreSQL: two rewrites of the candle table (the scales, then the integers), in SQL. On TimescaleDB compression is
switched off for them (every compressed chunk is decompressed first: make room for the table at its plain size) and
on again after; the compression policy compresses the chunks again over the following hours.
SQLite: its columns take integers as they are (type affinity), so each row is rewritten in place, in Python.
"""

import itertools

from django.conf import settings
from django.db import migrations, models

from apps.market import candle_values, timescale

# In the candle writer's order, the trade count among them.
VALUES = ("open", "high", "low", "close", "volume", "quote_volume", "trades", "taker_buy_volume",
          "taker_buy_quote_volume")  # fmt: skip
DECIMALS = tuple(candle_values.SCALE_OF)


def _postgresql(schema_editor) -> None:
    compressed = settings.TIMESCALEDB and "market_candle" in timescale.hypertables(schema_editor.connection)
    if compressed:
        schema_editor.execute("SELECT remove_compression_policy('market_candle', if_exists => true)")
        schema_editor.execute("SELECT decompress_chunk(c, if_compressed => true) FROM show_chunks('market_candle') c")
        schema_editor.execute("ALTER TABLE market_candle SET (timescaledb.compress = false)")
    schema_editor.execute(
        "ALTER TABLE market_candle " + ", ".join(f"ADD COLUMN {scale} smallint" for scale in candle_values.SCALES)
    )
    on_grid = candle_values.scales_sql(tick_size="symbol.tick_size", step_size="symbol.step_size")
    schema_editor.execute(
        f"UPDATE market_candle SET {', '.join(f'{scale} = {sql}' for scale, sql in on_grid.items())}"
        " FROM market_symbol symbol WHERE symbol.id = market_candle.symbol_id"
    )
    without_symbol = candle_values.scales_sql(tick_size="NULL", step_size="NULL")
    schema_editor.execute(
        f"UPDATE market_candle SET {', '.join(f'{scale} = {sql}' for scale, sql in without_symbol.items())}"
        " WHERE price_scale IS NULL"
    )
    schema_editor.execute(
        "ALTER TABLE market_candle "
        + ", ".join(f"ALTER COLUMN {scale} SET NOT NULL" for scale in candle_values.SCALES)
        + ", "
        + ", ".join(f"ALTER COLUMN {column} TYPE bigint USING {candle_values.units_sql(column)}" for column in DECIMALS)
    )
    if compressed:
        timescale.hypertable_create(schema_editor.connection, table="market_candle")


def _sqlite(apps, schema_editor) -> None:
    # The historical model reads the NUMERIC values as Decimals; it has no scale columns yet, so SQL writes.
    Candle = apps.get_model("market", "Candle")
    Symbol = apps.get_model("market", "Symbol")
    grids = {
        symbol_id: (candle_values.places(tick_size), candle_values.places(step_size))
        for symbol_id, tick_size, step_size in Symbol.objects.values_list("id", "tick_size", "step_size")
    }
    columns = (*VALUES, *candle_values.SCALES)
    update = (
        f"UPDATE market_candle SET {', '.join(f'{column} = %s' for column in columns)}"
        " WHERE symbol_id = %s AND open_time = %s"
    )
    time = schema_editor.connection.ops.adapt_datetimefield_value
    rows = Candle.objects.values_list("symbol_id", "open_time", *VALUES).iterator(chunk_size=10_000)
    with schema_editor.connection.cursor() as cursor:
        while batch := list(itertools.islice(rows, 10_000)):
            scaled = []
            for symbol_id, open_time, *values in batch:
                tick_places, step_places = grids.get(symbol_id, (0, 0))
                texts = tuple(
                    value if column == "trades" else f"{value:.8f}" for column, value in zip(VALUES, values, strict=True)
                )
                stored = candle_values.stored_row(texts, tick_places=tick_places, step_places=step_places)
                scaled.append((*stored, symbol_id, time(open_time)))
            cursor.executemany(update, scaled)


def values_to_scaled_integers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _postgresql(schema_editor)
    else:
        for scale in candle_values.SCALES:
            schema_editor.execute(f"ALTER TABLE market_candle ADD COLUMN {scale} smallint NOT NULL DEFAULT 8")
        _sqlite(apps, schema_editor)


def _integer(help_text: str) -> models.Field:
    return models.SmallIntegerField(help_text=help_text)


class Migration(migrations.Migration):
    dependencies = [("market", "0006_hourly_candle_hypertable")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(values_to_scaled_integers)],
            state_operations=[
                *(migrations.AlterField("candle", column, models.BigIntegerField()) for column in DECIMALS),
                migrations.AddField("candle", "price_scale", _integer("Decimal places of open, high, low and close.")),
                migrations.AddField(
                    "candle", "volume_scale", _integer("Decimal places of volume and taker buy volume.")
                ),
                migrations.AddField("candle", "quote_scale", _integer("Decimal places of the quote volumes.")),
            ],
        )
    ]
