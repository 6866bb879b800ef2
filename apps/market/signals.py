"""What the market app tells the others, which it must not import (the indicators build on it, not it on them)."""

from django.dispatch import Signal

# Sent by the streamer once closed 1m candles are stored, with `rows`: their CandleRows.
minutes_closed = Signal()

# Sent after a CoinMarketCap metadata sync changed rows, with `base_assets`: those whose metadata changed.
metadata_synced = Signal()
