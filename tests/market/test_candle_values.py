"""The stored integers and scales: the SQL rule (PostgreSQL's writer) and its Python twin (SQLite's) agree, and
every value the parser accepts comes back exactly."""

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.market import candle_values
from apps.market.candle_values import PRICES, QUOTE_VOLUMES, SCALES, VOLUMES, units_decimal
from apps.market.services.candles import VALUE_COLUMNS

pytestmark = [pytest.mark.django_db, pytest.mark.timescaledb]

COLUMNS = (*PRICES, *VOLUMES, *QUOTE_VOLUMES)
WRITER_ORDER = VALUE_COLUMNS
GRIDS = st.sampled_from(["1", "0.1", "0.01", "0.00001", "0.00000001", "0.00100000", "10"])


@st.composite
def decimal_texts(draw) -> str:
    """Decimal text as Binance sends it (always 8 places) or shorter, from 0 up to 18 significant digits."""
    integer_digits = draw(st.integers(0, 12))
    places = draw(st.integers(0, min(8, 18 - integer_digits)))
    integer = draw(st.integers(0, 10**integer_digits - 1)) if integer_digits else 0
    fraction = draw(st.integers(0, 10**places - 1))
    text = f"{integer}.{fraction:0{places}d}" if places else str(integer)
    return text + "0" * (8 - places) if places and draw(st.booleans()) else text


@st.composite
def rows(draw) -> dict[str, str]:
    """A row of values that fits (what the parser lets through)."""
    row = {column: draw(decimal_texts()) for column in COLUMNS}
    for group in (PRICES, VOLUMES, QUOTE_VOLUMES):
        if not candle_values.fits(tuple(row[column] for column in group)):
            row.update(dict.fromkeys(group, row[group[0]]))
    return row


def _sql_scales_and_units(row: dict[str, str], tick_size: str, step_size: str) -> tuple[dict, dict]:
    scales = candle_values.scales_sql(tick_size="symbol.tick_size", step_size="symbol.step_size")
    columns = ", ".join(f"%s::numeric AS {column}" for column in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {", ".join(candle_values.units_sql(column) for column in COLUMNS)}, {", ".join(SCALES)}
            FROM (SELECT value.*, {", ".join(f"{sql} AS {scale}" for scale, sql in scales.items())}
                  FROM (SELECT {columns}) value,
                       (SELECT %s::numeric AS tick_size, %s::numeric AS step_size) symbol) scaled""",
            [*(row[column] for column in COLUMNS), tick_size, step_size],
        )
        result = cursor.fetchone()
    return dict(zip(SCALES, result[len(COLUMNS) :], strict=True)), dict(
        zip(COLUMNS, result[: len(COLUMNS)], strict=True)
    )


def _python_scales_and_units(row: dict[str, str], tick_size: str, step_size: str) -> tuple[dict, dict]:
    values = tuple(row.get(column, 0) for column in WRITER_ORDER)
    stored = candle_values.stored_row(
        values, tick_places=candle_values.places(tick_size), step_places=candle_values.places(step_size)
    )
    by_column = dict(zip((*WRITER_ORDER, *SCALES), stored, strict=True))
    return {scale: by_column[scale] for scale in SCALES}, {column: by_column[column] for column in COLUMNS}


@settings(max_examples=200, deadline=None)
@given(row=rows(), tick_size=GRIDS, step_size=GRIDS)
def test_postgresql_and_python_store_a_row_alike_and_exactly(row, tick_size, step_size):
    scales, units = _python_scales_and_units(row, tick_size, step_size)

    assert _sql_scales_and_units(row, tick_size, step_size) == (scales, units)
    for column in COLUMNS:
        assert units_decimal(units[column], scales[candle_values.SCALE_OF[column]]) == Decimal(row[column])
        assert abs(units[column]) < 2**63


def test_a_row_on_the_symbols_grid_takes_the_grid_as_scale():
    row = dict.fromkeys(COLUMNS, "12.30000000")

    scales, _ = _python_scales_and_units(row, "0.01", "0.00001")

    assert scales == {"price_scale": 2, "volume_scale": 5, "quote_scale": 7}
