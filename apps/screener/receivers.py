from apps.screener.table import SNAPSHOTS_VERSION, SYMBOLS_VERSION, screener_sources_changed


def snapshots_updated_received(sender: object, **kwargs: object) -> None:
    screener_sources_changed(SNAPSHOTS_VERSION)


def metadata_synced_received(sender: object, **kwargs: object) -> None:
    screener_sources_changed(SYMBOLS_VERSION)


def signals_created_received(sender: object, **kwargs: object) -> None:
    screener_sources_changed(SNAPSHOTS_VERSION)
