from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from celery.signals import task_failure, task_retry, task_success

        from apps.monitoring.receivers import task_finished
        from apps.monitoring.services import Outcome

        # Workers load Django too, so every worker process counts the runs it finishes.
        for signal, outcome in ((task_success, Outcome.SUCCESS), (task_failure, Outcome.FAILURE),
                                (task_retry, Outcome.RETRY)):  # fmt: skip
            signal.connect(task_finished(outcome), weak=False, dispatch_uid=f"monitoring.task_{outcome}")
