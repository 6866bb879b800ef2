"""The screener's fields: what a row holds and what can be filtered and ordered on.

Every indicator output of every timeframe is a field named `<output>_<timeframe>` (`rsi_14_1h`, `macd_hist_4h`);
an output whose name ends in its only period may drop it (`rsi_1h`, `atr_15m`), as long as no other output would
take the same short name (the EMAs and SMAs keep theirs: `ema_50_1d`).
"""

import re
from functools import cache

from django.conf import settings

from apps.indicators.registry import OUTPUTS

TEXT_FIELDS = ("symbol", "name", "base_asset", "quote_asset")
NUMBER_FIELDS = ("price", "change_24h", "quote_volume_24h", "market_cap", "rank")
DEFAULT_ORDERING = (("market_cap", True),)  # field, descending
_PERIOD = re.compile(r"_\d+$")


def _short_names() -> dict[str, str]:
    shorts: dict[str, list[str]] = {}
    for output in OUTPUTS:
        short = _PERIOD.sub("", output)
        if short != output:
            shorts.setdefault(short, []).append(output)
    return {short: outputs[0] for short, outputs in shorts.items() if len(outputs) == 1 and short not in OUTPUTS}


@cache
def indicator_fields() -> dict[str, tuple[str, str]]:
    """Field name -> (timeframe, output), the short names included."""
    names = {output: output for output in OUTPUTS} | _short_names()
    return {
        f"{name}_{timeframe}": (timeframe, output)
        for timeframe in settings.INDICATORS_TIMEFRAMES
        for name, output in names.items()
    }


def field_kind(name: str) -> str | None:
    """ "text" or "number" for a field of the screener, None for an unknown name."""
    if name in TEXT_FIELDS:
        return "text"
    if name in NUMBER_FIELDS or name in indicator_fields():
        return "number"
    return None
