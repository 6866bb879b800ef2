"""What the indicators app tells the apps built on it (strategies, the screener), which it must not import."""

from django.dispatch import Signal

# Sent once snapshots are written (after their transaction commits), with `symbol_ids` and `timeframes`.
snapshots_updated = Signal()
