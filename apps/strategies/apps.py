from django.apps import AppConfig


class StrategiesConfig(AppConfig):
    name = "apps.strategies"
    label = "strategies"
    verbose_name = "Strategies and signals"

    def ready(self) -> None:
        from apps.indicators.signals import snapshots_updated
        from apps.market.live import stream_register
        from apps.strategies.events import SIGNALS_STREAM
        from apps.strategies.receivers import snapshots_updated_received

        snapshots_updated.connect(snapshots_updated_received, dispatch_uid="strategies.evaluate")
        stream_register(SIGNALS_STREAM)
