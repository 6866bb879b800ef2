"""How the alerts hear of what they watch. The streamer's tickers are evaluated where they arrive (the index search
costs what can fire); snapshot updates and strategies' signals queue a task; any change of the rules (through the
API, the admin or a watchlist's symbols) makes every process rebuild its index."""

from django.db import transaction

from apps.alerts.index import rules_changed
from apps.alerts.services import alert_tickers_evaluate


def tickers_updated_received(sender: object, *, tickers: dict[str, dict], **kwargs: object) -> None:
    alert_tickers_evaluate(tickers=tickers)


def snapshots_updated_received(
    sender: object, *, symbol_ids: list[int], timeframes: list[str], **kwargs: object
) -> None:
    from tasks.alerts import evaluate_snapshots

    evaluate_snapshots.delay(symbol_ids, timeframes)


def signals_created_received(sender: object, *, signal_ids: list[int], **kwargs: object) -> None:
    from tasks.alerts import evaluate_signals

    evaluate_signals.delay(signal_ids)


def rule_saved_or_deleted(sender: object, **kwargs: object) -> None:
    transaction.on_commit(rules_changed)


def watchlist_symbols_changed(sender: object, *, action: str, **kwargs: object) -> None:
    if action.startswith("post_"):
        transaction.on_commit(rules_changed)
