"""The screener's query string, checked: `<field>=`, `<field>__lt|lte|gt|gte=`, `search=`, `ordering=`, `page=`,
`page_size=`. Anything else is a 400 that says what is wrong, never a silently ignored filter."""

import math

from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from apps.screener.fields import DEFAULT_ORDERING, field_kind
from apps.screener.table import ScreenerQuery

OPERATORS = ("lt", "lte", "gt", "gte")
CONTROLS = ("search", "ordering", "page", "page_size")
MAX_PAGE_SIZE = 1000
FIELDS_HELP = "see GET /api/v1/screener/fields/ for the fields"


def screener_query_parse(params: QueryDict) -> ScreenerQuery:
    errors: dict[str, list[str]] = {}
    filters = []
    for key, value in params.items():
        if key in CONTROLS:
            continue
        name, _, operator = key.partition("__")
        kind = field_kind(name)
        if kind is None:
            errors[key] = [f"Unknown filter {key!r}: {FIELDS_HELP}."]
        elif operator and (operator not in OPERATORS or kind == "text"):
            allowed = "none (exact match only)" if kind == "text" else ", ".join(OPERATORS)
            errors[key] = [f"Unknown operator {operator!r} for {name!r}: use {allowed}."]
        elif kind == "text":
            filters.append((name, "eq", value.lower()))
        else:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                errors[key] = [f"{value!r} is not a number."]
            else:
                filters.append((name, operator or "eq", number))
    ordering = _ordering(params.get("ordering"), errors)
    page = _positive(params, "page", 1, errors)
    page_size = _positive(params, "page_size", 100, errors)
    if page_size > MAX_PAGE_SIZE:
        errors["page_size"] = [f"At most {MAX_PAGE_SIZE}."]
    if errors:
        raise ValidationError(errors)
    return ScreenerQuery(tuple(sorted(filters)), params.get("search", "").strip(), ordering, page, page_size)


def _ordering(text: str | None, errors: dict) -> tuple[tuple[str, bool], ...]:
    if not text:
        return DEFAULT_ORDERING
    ordering = []
    for item in text.split(","):
        name = item.strip().removeprefix("-")
        if field_kind(name) is None:
            errors["ordering"] = [f"Unknown field {name!r}: {FIELDS_HELP}."]
            return DEFAULT_ORDERING
        ordering.append((name, item.strip().startswith("-")))
    return tuple(ordering)


def _positive(params: QueryDict, name: str, default: int, errors: dict) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        errors[name] = ["A whole number of at least 1."]
        return default
    return int(text)
