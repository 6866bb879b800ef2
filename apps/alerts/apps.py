from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from apps.alerts import receivers
        from apps.alerts.commands import TelegramAlertCommands
        from apps.alerts.models import AlertRule, Watchlist
        from apps.indicators.signals import snapshots_updated
        from apps.market.signals import tickers_updated
        from apps.strategies.events import signals_created
        from apps.telegram.alert_commands import alert_commands_register

        tickers_updated.connect(receivers.tickers_updated_received, dispatch_uid="alerts.tickers")
        snapshots_updated.connect(receivers.snapshots_updated_received, dispatch_uid="alerts.snapshots")
        signals_created.connect(receivers.signals_created_received, dispatch_uid="alerts.signals")
        post_save.connect(receivers.rule_saved_or_deleted, sender=AlertRule, dispatch_uid="alerts.rule_saved")
        post_delete.connect(receivers.rule_saved_or_deleted, sender=AlertRule, dispatch_uid="alerts.rule_deleted")
        m2m_changed.connect(
            receivers.watchlist_symbols_changed, sender=Watchlist.symbols.through, dispatch_uid="alerts.watchlist"
        )
        alert_commands_register(TelegramAlertCommands())
