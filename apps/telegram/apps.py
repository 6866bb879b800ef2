from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "apps.telegram"
    label = "telegram"
    verbose_name = "Telegram"
