"""The suite runs on real PostgreSQL and Redis (`make test` starts them); only the network edge is faked."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/screener")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings.base import *  # noqa: F403
from config.settings.base import env

SECRET_KEY = "test-only"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests that are not about Celery itself run tasks in-process against the real database.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
BINANCE_REST_URL = "http://127.0.0.1:9"  # never reached: tests point clients at their fake server
BINANCE_ARCHIVE_URL = "http://127.0.0.1:9"
BINANCE_REQUEST_TIMEOUT = 2.0
# Many tests call the API from one address within a minute: only the throttling tests lower these.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "100000/minute", "user": "100000/minute"}  # noqa: F405
