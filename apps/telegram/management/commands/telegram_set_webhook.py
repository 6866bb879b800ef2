from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.telegram.client import TelegramError
from apps.telegram.services import webhook_set


class Command(BaseCommand):
    help = (
        "Have Telegram post the bot's updates to URL (https://<host>/telegram/webhook/), with TELEGRAM_WEBHOOK_SECRET "
        "in each request."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("url")

    def handle(self, *args: object, url: str, **options: object) -> None:
        if not settings.TELEGRAM_WEBHOOK_SECRET:
            raise CommandError("Set TELEGRAM_WEBHOOK_SECRET first: the webhook refuses every request without it.")
        try:
            webhook_set(url=url)
        except TelegramError as error:
            raise CommandError(f"Telegram refused the webhook: {error}") from error
        self.stdout.write(f"webhook set to {url}")
