from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.market.management.commands._arguments import add_server_arguments
from config.embedded_beat import EmbeddedBeat


class Command(BaseCommand):
    help = "Serve HTTP and WebSocket with daphne; on the embedded default also run the beat schedule in-process."

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)

    def handle(self, *args: object, host: str, port: int, **options: object) -> None:
        beat = None
        if settings.CELERY_TASK_ALWAYS_EAGER:
            beat = EmbeddedBeat()
            beat.start()
            self.stdout.write("embedded default: market keeper (beat schedule) running in-process")
        try:
            CommandLineInterface().run(["-b", host, "-p", str(port), "config.asgi:application"])
        finally:
            if beat:
                beat.stop()
