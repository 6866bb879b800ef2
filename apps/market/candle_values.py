"""How a candle's values are stored: exact integers, each group of columns at a decimal scale of its row (see Candle).

The scale of a group is the finer of its values' own places and the symbol's grid (tick size for prices, step size
for volumes, both for the quote volumes), at most Binance's 8 places, and never so fine that a value would not fit a
signed 64-bit integer (the parser lets through no group of values that could not fit). The same rule is written
twice, in SQL for the PostgreSQL writer (computed by the database, at C speed, while it copies) and in Python for
SQLite's; the tests hold both to it.
"""

from decimal import ROUND_HALF_UP, Decimal

MAX_PLACES = 8  # Binance's
MAX_DIGITS = 18  # 10**18 < 2**63
EIGHT_PLACES = Decimal("1e-8")
PRICES = ("open", "high", "low", "close")
VOLUMES = ("volume", "taker_buy_volume")
QUOTE_VOLUMES = ("quote_volume", "taker_buy_quote_volume")
SCALE_OF = {
    **dict.fromkeys(PRICES, "price_scale"),
    **dict.fromkeys(VOLUMES, "volume_scale"),
    **dict.fromkeys(QUOTE_VOLUMES, "quote_scale"),
}
SCALES = ("price_scale", "volume_scale", "quote_scale")


# By scale, the value of one unit (with 8 places, so that a product is NUMERIC with Binance's 8 places) and 10**scale:
# a constant array's element costs a fraction of computing the power for every value.
_UNIT_VALUES = f"('{{{','.join(f'{10**-places:.{MAX_PLACES}f}' for places in range(MAX_PLACES + 1))}}}'::numeric[])"
_POWERS_OF_TEN = f"('{{{','.join(str(10**places) for places in range(MAX_PLACES + 1))}}}'::numeric[])"
_FLOAT_POWERS_OF_TEN = f"('{{{','.join(str(10**places) for places in range(MAX_PLACES + 1))}}}'::float8[])"


def decoded_sql(column: str, *, vendor: str, alias: str = "", as_float: bool = False) -> str:
    """SQL for a stored value as the exchange's decimal (NUMERIC with 8 places), or as double precision.

    Dividing the exact integer by an exact power of ten rounds once, as NUMERIC's cast to double precision does.
    """
    units, scale = f"{alias}{column}", f"{alias}{SCALE_OF[column]}"
    if vendor != "postgresql":
        return f"({units} * 1.0 / POWER(10, {scale}))"  # SQLite: floats, rounded to 8 places when read
    if as_float:
        return f"({units}::float8 / {_FLOAT_POWERS_OF_TEN}[{scale} + 1])"
    return f"({units} * {_UNIT_VALUES}[{scale} + 1])"


def _scale_sql(columns: tuple[str, ...], grid_places: str) -> str:
    own_places = ", ".join(f"min_scale({column})" for column in columns)
    integer_digits = ", ".join(f"length(trunc({column})::text)" for column in columns)
    grid = f"coalesce({grid_places}, 0)"
    # Below 10**10 every grid (at most 8 places) fits: the digits are counted (as text, slow) only above.
    fitting_grid = (
        f"CASE WHEN greatest({', '.join(columns)}) < {10 ** (MAX_DIGITS - MAX_PLACES)} THEN {grid}"
        f" ELSE least({grid}, {MAX_DIGITS} - greatest({integer_digits})) END"
    )
    return f"least({MAX_PLACES}, greatest({own_places}, {fitting_grid}))"


def scales_sql(*, tick_size: str, step_size: str) -> dict[str, str]:
    """SQL for each row's scales from its NUMERIC values (by column name) and the symbol's grid."""
    tick_places, step_places = f"min_scale({tick_size})", f"min_scale({step_size})"
    return {
        "price_scale": _scale_sql(PRICES, tick_places),
        "volume_scale": _scale_sql(VOLUMES, step_places),
        "quote_scale": _scale_sql(QUOTE_VOLUMES, f"{tick_places} + {step_places}"),
    }


def units_sql(column: str) -> str:
    """SQL for a NUMERIC value as the integer stored, given its row's scales by name (the cast rounds half away from
    zero, as units() does)."""
    return f"({column} * {_POWERS_OF_TEN}[{SCALE_OF[column]} + 1])::bigint"


def places(value: Decimal | str) -> int:
    """Decimal places a number needs: 0.01000000 needs 2."""
    fraction = str(value).partition(".")[2].rstrip("0")
    return len(fraction)


def _integer_digits(text: str) -> int:
    return len(text.partition(".")[0].lstrip("0")) or 1


def _scale(texts: tuple[str, ...], grid_places: int) -> int:
    # The SQLite writer runs this for every candle: plain string operations, no Decimal.
    own_places, integer_digits = 0, 1
    for text in texts:
        integer, _, fraction = text.partition(".")
        own_places = max(own_places, len(fraction.rstrip("0")))
        integer_digits = max(integer_digits, len(integer.lstrip("0")))
    return min(MAX_PLACES, max(own_places, min(grid_places, MAX_DIGITS - integer_digits)))


def stored_row(values: tuple, *, tick_places: int, step_places: int) -> tuple:
    """Python's twin of scales_sql and units_sql, for the SQLite writer: a row's values in the writer's order (open,
    high, low, close, volume, quote volume, trades, taker buy volume, taker buy quote volume; decimal texts but the
    trade count) as the integers stored, in the same order, then the price, volume and quote scales."""
    open_, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume = values
    price_scale = _scale((open_, high, low, close), tick_places)
    volume_scale = _scale((volume, taker_buy_volume), step_places)
    quote_scale = _scale((quote_volume, taker_buy_quote_volume), tick_places + step_places)
    return (units(open_, price_scale), units(high, price_scale), units(low, price_scale), units(close, price_scale),
            units(volume, volume_scale), units(quote_volume, quote_scale), trades,
            units(taker_buy_volume, volume_scale), units(taker_buy_quote_volume, quote_scale),
            price_scale, volume_scale, quote_scale)  # fmt: skip


def units(text: str, scale: int) -> int:
    """Python's twin of units_sql."""
    integer, _, fraction = text.partition(".")
    digits = int(integer + fraction)
    if (shift := scale - len(fraction)) >= 0:
        return digits * 10**shift
    whole, rest = divmod(digits, 10**-shift)
    if not rest:
        return whole
    return int(Decimal(text).scaleb(scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))  # finer than 8 places


def units_decimal(units: int, scale: int) -> Decimal:
    """A stored value as the exchange's decimal with its 8 places: decoded_sql's twin."""
    return Decimal(units).scaleb(-scale).quantize(EIGHT_PLACES)


def fits(texts: tuple[str, ...]) -> bool:
    """Whether values stored at one scale all fit a signed 64-bit integer: what the parser checks of each group."""
    return (
        max(_integer_digits(text) for text in texts) + min(MAX_PLACES, max(places(text) for text in texts))
        <= MAX_DIGITS
    )


_AGGREGATES = {"high": "max", "low": "min", "volume": "sum", "quote_volume": "sum", "trades": "sum",
               "taker_buy_volume": "sum", "taker_buy_quote_volume": "sum"}  # fmt: skip
# How a group's open and close are taken: in the same pass, by TimescaleDB's first() and last() or by ordering each
# group's values; or not at all (the caller looks them up by the group's first_time and last_time).
_OPEN_CLOSE = {
    "first_last": ("first(open, open_time) AS open, last(close, open_time) AS close",
                   "first({open}, first_time) AS open, last({close}, last_time) AS close"),
    "ordered": ("(array_agg(open ORDER BY open_time))[1] AS open,"
                " (array_agg(close ORDER BY open_time DESC))[1] AS close",
                "(array_agg({open} ORDER BY first_time))[1] AS open,"
                " (array_agg({close} ORDER BY last_time DESC))[1] AS close"),
}  # fmt: skip


def rollup_sql(*, keys: dict[str, str], rows: str, open_close: str | None) -> str:
    """PostgreSQL rolling stored candles up per `keys` ({name: expression}) into the exchange's decimals.

    `rows` is the FROM and WHERE of the candles. Columns: the keys' names, first_time, last_time, open and close
    (unless `open_close` is None; else "first_last" or "ordered", see _OPEN_CLOSE), high, low, volume, quote_volume,
    trades, taker_buy_volume, taker_buy_quote_volume. The integers are aggregated within each group of equal scales
    (a symbol's scales change only when its values outgrow them, so a key has one group almost always) and decoded
    once per group: summing NUMERIC values row by row cost several times as much.
    """
    inner_keys = [*(f"{expression} AS {name}" for name, expression in keys.items()), *SCALES]
    aggregates = [f"{function}({column}) AS {column}" for column, function in _AGGREGATES.items()]
    decoded = {column: decoded_sql(column, vendor="postgresql") for column in SCALE_OF} | {"trades": "trades"}
    outer = [f"{function}({decoded[column]}) AS {column}" for column, function in _AGGREGATES.items()]
    if open_close is not None:
        inner_open_close, outer_open_close = _OPEN_CLOSE[open_close]
        aggregates.insert(0, inner_open_close)
        outer.insert(0, outer_open_close.format(open=decoded["open"], close=decoded["close"]))
    group_by = ", ".join(keys)
    return f"""
        SELECT {"".join(f"{name}, " for name in keys)}min(first_time) AS first_time, max(last_time) AS last_time,
               {", ".join(outer)}
        FROM (
            SELECT {", ".join(inner_keys)}, min(open_time) AS first_time, max(open_time) AS last_time,
                   {", ".join(aggregates)}
            FROM {rows}
            GROUP BY {", ".join(str(position) for position in range(1, len(inner_keys) + 1))}
        ) scale_group
        {f"GROUP BY {group_by}" if group_by else ""}
    """
