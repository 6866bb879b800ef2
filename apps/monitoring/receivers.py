from collections.abc import Callable

from celery import Task

from apps.monitoring.services import Outcome, task_run_count


def task_finished(outcome: Outcome) -> Callable[..., None]:
    """A receiver of Celery's task_success, task_failure or task_retry (each sent with the task as sender)."""

    def receiver(sender: Task, **kwargs: object) -> None:
        task_run_count(task_name=sender.name, outcome=outcome)

    return receiver
