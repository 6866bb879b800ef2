"""What the strategies app tells the apps built on it (users' alerts), which it must not import."""

from django.dispatch import Signal

# Sent once new signals are committed, with `signal_ids`: the ids of the Signal rows just created (each once).
signals_created = Signal()

# The live stream (apps.market.live) on which new signals reach WebSocket clients, a list of them per update.
SIGNALS_STREAM = "signals"
