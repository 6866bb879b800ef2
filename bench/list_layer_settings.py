"""The `stream_latency` benchmark's baseline: the project's settings with channels_redis's list-based layer, the one
it used before its pub/sub layer, configured as it was."""

from config.settings.test import *  # noqa: F403
from config.settings.test import REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "max_connections": 1000, "socket_timeout": 15}]},
    }
}
