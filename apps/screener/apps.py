from django.apps import AppConfig


class ScreenerConfig(AppConfig):
    name = "apps.screener"
    label = "screener"
    verbose_name = "Screener"

    def ready(self) -> None:
        from apps.indicators.signals import snapshots_updated
        from apps.market.signals import metadata_synced
        from apps.screener.receivers import (
            metadata_synced_received,
            signals_created_received,
            snapshots_updated_received,
        )
        from apps.strategies.events import signals_created

        snapshots_updated.connect(snapshots_updated_received, dispatch_uid="screener.snapshots")
        metadata_synced.connect(metadata_synced_received, dispatch_uid="screener.metadata")
        signals_created.connect(signals_created_received, dispatch_uid="screener.signals")
