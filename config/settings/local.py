"""The embedded default: `make run` on one machine with nothing installed (SQLite, in-process everything)."""

from config.settings.base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)  # noqa: F405
