"""The `screener` benchmark's server: production settings, plus the baseline endpoint (bench/urls.py)."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
