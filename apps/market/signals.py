"""What the market app tells the others, which it must not import (the indicators build on it, not it on them)."""

from django.dispatch import Signal

# Sent by the streamer once closed 1m candles are stored, with `rows`: their CandleRows.
minutes_closed = Signal()

# Sent by the streamer once a flush's tickers are in live state, with `tickers`: symbol -> its latest mini ticker
# (apps.market.live). Receivers run in the streamer's flush: each must take time in proportion to what it acts on.
tickers_updated = Signal()

# Sent after a CoinMarketCap metadata sync changed rows, with `base_assets`: those whose metadata changed.
metadata_synced = Signal()
