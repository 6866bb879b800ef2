from django.apps import AppConfig


class ScreenerConfig(AppConfig):
    name = "apps.screener"
    label = "screener"
    verbose_name = "Screener"

    def ready(self) -> None:
        from apps.indicators.signals import snapshots_updated
        from apps.market.signals import metadata_synced
        from apps.screener.receivers import metadata_synced_received, snapshots_updated_received

        snapshots_updated.connect(snapshots_updated_received, dispatch_uid="screener.snapshots")
        metadata_synced.connect(metadata_synced_received, dispatch_uid="screener.metadata")
