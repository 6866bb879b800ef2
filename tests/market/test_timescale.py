import pytest
from django.conf import settings
from django.db import connection

from apps.market import timescale


def test_the_candle_table_becomes_a_hypertable_on_open_time_keeping_its_primary_key():
    statements = timescale.candle_hypertable_sql(chunk_interval="7 days", compress_after="7 days", retention="")

    assert statements[1] == (
        "SELECT create_hypertable('market_candle', by_range('open_time', INTERVAL '7 days'),"
        " migrate_data => true, if_not_exists => true)"
    )
    assert not any("DROP CONSTRAINT" in statement for statement in statements)


def test_compression_is_segmented_by_symbol_and_ordered_by_time():
    statements = timescale.candle_hypertable_sql(chunk_interval="7 days", compress_after="3 days", retention="")

    assert "timescaledb.compress_segmentby = 'symbol_id'" in statements[2]
    assert "timescaledb.compress_orderby = 'open_time'" in statements[2]
    assert statements[3] == "SELECT add_compression_policy('market_candle', INTERVAL '3 days', if_not_exists => true)"


def test_a_retention_policy_is_added_only_when_configured():
    without = timescale.candle_hypertable_sql(chunk_interval="7 days", compress_after="7 days", retention="")
    with_retention = timescale.candle_hypertable_sql(
        chunk_interval="7 days", compress_after="7 days", retention="2 years"
    )

    assert not any("add_retention_policy" in statement for statement in without)
    assert with_retention[-1] == (
        "SELECT add_retention_policy('market_candle', INTERVAL '2 years', if_not_exists => true)"
    )


def test_time_buckets_take_an_explicit_origin():
    sql = timescale.time_bucket_sql(
        width="259200000 milliseconds", column="open_time", origin="1970-01-01T00:00:00+00:00"
    )

    assert sql == "time_bucket(INTERVAL '259200000 milliseconds', open_time, TIMESTAMPTZ '1970-01-01T00:00:00+00:00')"


@pytest.mark.django_db
@pytest.mark.skipif(not settings.TIMESCALEDB, reason="TIMESCALEDB is not set: the database has no TimescaleDB")
def test_the_migrated_candle_table_is_a_compressed_hypertable():
    assert timescale.extension_installed(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT compression_enabled FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'market_candle'"
        )
        assert cursor.fetchone() == (True,)
