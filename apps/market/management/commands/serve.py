import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.market.management.commands._arguments import add_server_arguments
from config.embedded_beat import EmbeddedBeat


class Command(BaseCommand):
    help = (
        "Serve HTTP and WebSocket with daphne. On the embedded default (no REDIS_URL) also run, in this process, "
        "the beat schedule and the streamer, whose updates reach clients through the in-memory channel layer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)

    def handle(self, *args: object, host: str, port: int, **options: object) -> None:
        # Importing daphne's server installs Twisted's asyncio reactor, whose event loop then serves everything.
        from daphne.cli import CommandLineInterface
        from twisted.internet import reactor

        beat = None
        if settings.CELERY_TASK_ALWAYS_EAGER:
            beat = EmbeddedBeat()
            beat.start()
            reactor.callWhenRunning(_start_streamer)
            self.stdout.write("embedded default: market keeper and streamer running in-process")
        self.stdout.write(f"dashboard on http://{host}:{port}/, API docs on http://{host}:{port}/api/docs/")
        try:
            CommandLineInterface().run(["-b", host, "-p", str(port), "config.asgi:application"])
        finally:
            if beat:
                beat.stop()


def _start_streamer() -> None:
    from apps.market.services.streamer import Streamer

    # The in-memory channel layer only reaches consumers on its own event loop: the streamer must run on daphne's.
    asyncio.get_event_loop().create_task(Streamer().run())
