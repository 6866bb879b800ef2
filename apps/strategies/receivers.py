from tasks.strategies import evaluate


def snapshots_updated_received(
    sender: object, *, symbol_ids: list[int], timeframes: list[str], **kwargs: object
) -> None:
    # Sent once the snapshots are committed: the task reads what was written.
    evaluate.delay(symbol_ids, timeframes)
