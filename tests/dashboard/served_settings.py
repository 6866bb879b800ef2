"""The test settings for the processes of tests/dashboard/serving.py, with the exchange's REST and archive URLs read
from the environment like its WebSocket's (the suite's own settings pin them to an address that never answers)."""

from config.settings.test import *  # noqa: F403
from config.settings.test import env

BINANCE_REST_URL = env.str("BINANCE_REST_URL")
BINANCE_ARCHIVE_URL = env.str("BINANCE_ARCHIVE_URL")
