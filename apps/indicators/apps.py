from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "apps.indicators"
    label = "indicators"
    verbose_name = "Indicators"

    def ready(self) -> None:
        from apps.indicators.receivers import minutes_closed_received
        from apps.market.signals import minutes_closed

        minutes_closed.connect(minutes_closed_received, dispatch_uid="indicators.live")
