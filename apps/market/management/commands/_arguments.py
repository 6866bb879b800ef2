"""Argument parsing shared by the market commands: symbol lists and UTC times, validated with clear errors."""

import argparse
from datetime import UTC, datetime

from django.core.management.base import CommandError, CommandParser

from apps.market.models import Symbol


def utc_time(value: str) -> datetime:
    """`2024-01-01`, `2024-01-01T12:00`, or with an offset; naive times are UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def symbol_names(value: str) -> list[str]:
    names = [name.strip().upper() for name in value.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one symbol, e.g. BTCUSDT,ETHUSDT")
    return names


def symbols_selected(names: list[str] | None) -> list[Symbol]:
    """The named symbols (all must exist), or every tracked symbol."""
    if not names:
        return list(Symbol.objects.tracked())
    # A name with a NUL byte, which PostgreSQL text cannot hold, is unknown without asking.
    storable = [name for name in names if "\x00" not in name]
    found = {symbol.symbol: symbol for symbol in Symbol.objects.filter(symbol__in=storable)}
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise CommandError(f"unknown symbol(s): {', '.join(unknown)} (run `manage.py sync_symbols` first?)")
    return [found[name] for name in names]


def time_range_checked(since: datetime | None, until: datetime) -> None:
    if since is not None and since >= until:
        raise CommandError(f"--since {since:%Y-%m-%d %H:%M} is not before --until {until:%Y-%m-%d %H:%M}")


def add_selection_arguments(parser: CommandParser, *, since_help: str) -> None:
    parser.add_argument("--symbols", type=symbol_names, help="Comma-separated; default: every tracked symbol.")
    parser.add_argument("--since", type=utc_time, help=since_help)
    parser.add_argument("--until", type=utc_time, help="Default: now.")


def add_server_arguments(parser: CommandParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
