"""Settings shared by every environment. Values come from `config.env.env`; see README.md for the table."""

from datetime import timedelta

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.env import BASE_DIR, env
from config.queues import Queue as CeleryQueue

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="embedded-default-not-secret")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "channels",
    "apps.market",
    "apps.indicators",
    "apps.strategies",
    "apps.alerts",
    "apps.screener",
    "apps.monitoring",
    "apps.telegram",
    "apps.analytics",
    "apps.login_lockout",
    "apps.accounts",
]

MIDDLEWARE = [
    "apps.monitoring.middleware.request_metrics_middleware",  # first: its timing covers every other middleware
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: it turns a locked-out sign-in into its lockout page
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite is the embedded default; PostgreSQL (optionally with TimescaleDB) in production.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the API read while the market keeper writes; the timeout rides out the writer's short locks.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
else:
    # JIT compiles a plan whose estimated cost is high: on a hypertable of many chunks that is every query, and
    # compiling took seconds for reads that run in milliseconds (klines of 1m with 62 weekly chunks: 9 s, 0.6 s off).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()  # after any the DATABASE_URL gives
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Set when the database has the TimescaleDB extension: hypertable, compression, retention and time_bucket.
TIMESCALEDB = env.bool("TIMESCALEDB", default=False)
TIMESCALEDB_CANDLE_CHUNK = env.str("TIMESCALEDB_CANDLE_CHUNK", default="7 days")
TIMESCALEDB_COMPRESS_AFTER = env.str("TIMESCALEDB_COMPRESS_AFTER", default="7 days")
# Empty keeps candles for ever.
TIMESCALEDB_RETENTION = env.str("TIMESCALEDB_RETENTION", default="")

# Unset REDIS_URL means the embedded default: in-process cache, channel layer, weight budget and eager tasks.
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Pub/sub: a message costs one PUBLISH, and each web process receives it once, on one subscribed connection,
    # for all its members of the group. The list-based RedisChannelLayer costs several round trips per message and
    # one blocking pop per message per process: at 1,000 stream updates a second that was most of daphne's time and
    # the whole latency tail (bench/stream_latency.py). Its group memberships last as long as the process.
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    # Django's default of 300 entries would evict live state: every symbol keeps a ticker and a forming candle.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "OPTIONS": {"MAX_ENTRIES": 100_000}}}  # fmt: skip
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker died outright (acks_late) goes back to the queue after this; it must outlast the longest
# countdown a task waits for on a worker (a delivery's backoff: 15 minutes at most), or that task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1200}
CELERY_TASK_DEFAULT_QUEUE = CeleryQueue.INGEST.value
CELERY_TASK_QUEUES = [Queue(queue.value) for queue in CeleryQueue]
# Task names are prefixed by their concern; each concern has its queue (and so its own workers).
CELERY_TASK_ROUTES = {
    "market.*": {"queue": CeleryQueue.INGEST.value},
    "indicators.*": {"queue": CeleryQueue.INDICATORS.value},
    "strategies.*": {"queue": CeleryQueue.STRATEGIES.value},
    "telegram.*": {"queue": CeleryQueue.NOTIFICATIONS.value},
    "alerts.deliver_webhook": {"queue": CeleryQueue.WEBHOOKS.value},  # exact names win over patterns
    "alerts.*": {"queue": CeleryQueue.NOTIFICATIONS.value},
}
CELERY_TIMEZONE = "UTC"
# Celery's autodiscovery only scans installed apps, so the top-level task modules are listed here.
CELERY_IMPORTS = ["tasks.market", "tasks.indicators", "tasks.strategies", "tasks.telegram", "tasks.alerts"]
# Beat keeps its schedule in the database (django-celery-beat), editable in the admin; the entries below are
# written there when beat starts.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "market-sync-symbols": {"task": "market.sync_symbols", "schedule": 3600.0},
    "market-catch-up": {"task": "market.catch_up", "schedule": 60.0, "options": {"expires": 55}},
    "market-backfill-history": {"task": "market.backfill_history", "schedule": 600.0, "options": {"expires": 590}},
}

# External systems: every base URL can be pointed elsewhere (the tests and `make demo` use our fake exchange).
BINANCE_REST_URL = env.str("BINANCE_REST_URL", default="https://api.binance.com")
BINANCE_WS_URL = env.str("BINANCE_WS_URL", default="wss://stream.binance.com:9443")
BINANCE_ARCHIVE_URL = env.str("BINANCE_ARCHIVE_URL", default="https://data.binance.vision")
# Our own ceiling under Binance's 6000/min per IP, shared by every process through Redis when REDIS_URL is set.
BINANCE_WEIGHT_BUDGET_PER_MINUTE = env.int("BINANCE_WEIGHT_BUDGET_PER_MINUTE", default=4800)
BINANCE_REQUEST_TIMEOUT = env.float("BINANCE_REQUEST_TIMEOUT", default=10.0)
BINANCE_MAX_RETRIES = env.int("BINANCE_MAX_RETRIES", default=5)

# CoinMarketCap metadata (names, ranks, market caps, logos), synced daily; without a key the sync is off.
CMC_API_KEY = env.str("CMC_API_KEY", default="")
CMC_API_URL = env.str("CMC_API_URL", default="https://pro-api.coinmarketcap.com")
# Coins per quotes (and logo) request: a failed request costs only its chunk; CMC bills a credit per 100 coins.
CMC_QUOTES_CHUNK = env.int("CMC_QUOTES_CHUNK", default=20)
# The plan's request limit (Basic: 30 a minute); requests are spaced to stay under it.
CMC_REQUESTS_PER_MINUTE = env.int("CMC_REQUESTS_PER_MINUTE", default=30)
CELERY_BEAT_SCHEDULE |= {
    "market-sync-metadata": {"task": "market.sync_metadata", "schedule": crontab(minute=30, hour=0)}
}

MARKET_QUOTE_ASSETS = env.list("MARKET_QUOTE_ASSETS", default=["USDT"])
# The first start backfills this many of the most liquid symbols first, over MARKET_RECENT_WINDOW_DAYS.
MARKET_PRIORITY_SYMBOLS = env.int("MARKET_PRIORITY_SYMBOLS", default=50)
# 1d EMA/SMA 200 need 200 daily candles: the first start fills this window before the rest of the history.
MARKET_RECENT_WINDOW_DAYS = env.int("MARKET_RECENT_WINDOW_DAYS", default=210)
MARKET_HISTORY_DAYS = env.int("MARKET_HISTORY_DAYS", default=730)
MARKET_BACKFILL_CHUNK_SYMBOLS = env.int("MARKET_BACKFILL_CHUNK_SYMBOLS", default=10)
# The admin's candle import refuses larger uploads (a year of 1m candles is about 80 MB of CSV); larger files go
# through `manage.py import_candles`.
CANDLE_IMPORT_UPLOAD_MAX_BYTES = env.int("CANDLE_IMPORT_UPLOAD_MAX_BYTES", default=100 * 2**20)

# The streamer: streams per Binance connection (its limit is 1024), how often it re-reads the tracked symbols,
# after how long without a message a connection counts as dead, when each connection is replaced ahead of
# Binance's 24-hour cut, and how often closed candles are written.
STREAM_MAX_PER_CONNECTION = env.int("STREAM_MAX_PER_CONNECTION", default=1000)
STREAM_SYMBOLS_REFRESH_SECONDS = env.float("STREAM_SYMBOLS_REFRESH_SECONDS", default=30.0)
STREAM_SILENCE_SECONDS = env.float("STREAM_SILENCE_SECONDS", default=10.0)
STREAM_ROTATE_SECONDS = env.float("STREAM_ROTATE_SECONDS", default=23.5 * 3600)
STREAM_FLUSH_SECONDS = env.float("STREAM_FLUSH_SECONDS", default=1.0)
# Live stream: tickers reach clients at most once per this many seconds (klines: every update); a client that
# cannot keep up loses its oldest queued frames beyond STREAM_CLIENT_BUFFER instead of slowing anyone else.
STREAM_TICKER_INTERVAL_SECONDS = env.float("STREAM_TICKER_INTERVAL_SECONDS", default=1.0)
STREAM_CLIENT_BUFFER = env.int("STREAM_CLIENT_BUFFER", default=1000)
# A client frame longer than STREAM_CLIENT_FRAME_MAX_CHARS (subscribing to the 200 streams a connection may hold
# takes at most about 9,000), or more than STREAM_CLIENT_FRAMES_PER_SECOND frames within a second, closes the
# connection: daphne itself takes frames of any size at any rate.
STREAM_CLIENT_FRAME_MAX_CHARS = env.int("STREAM_CLIENT_FRAME_MAX_CHARS", default=16384)
STREAM_CLIENT_FRAMES_PER_SECOND = env.int("STREAM_CLIENT_FRAMES_PER_SECOND", default=10)

# Monitoring: /health gives each check HEALTH_CHECK_TIMEOUT_SECONDS and degrades when the streamer last heard from
# Binance, or the newest indicator snapshot was computed, longer ago than its max age (the incremental path
# refreshes snapshots every minute). When METRICS_TOKEN is set, /metrics asks for it as a bearer token.
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)
HEALTH_STREAMER_MAX_AGE_SECONDS = env.float("HEALTH_STREAMER_MAX_AGE_SECONDS", default=60.0)
# A shard whose newest stored closed candle lags the exchange's clock (its newest event time) by more than this is
# degraded, even while messages keep arriving: a minute's close normally comes a minute after its open.
HEALTH_STREAMER_MAX_CANDLE_LAG_SECONDS = env.float("HEALTH_STREAMER_MAX_CANDLE_LAG_SECONDS", default=180.0)
HEALTH_SNAPSHOT_MAX_AGE_SECONDS = env.float("HEALTH_SNAPSHOT_MAX_AGE_SECONDS", default=300.0)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Indicators: the timeframes computed for every tracked symbol, how many closed candles each computation reads
# (EMA 200 needs far more than 200 to settle), and how many symbols one Celery task takes.
INDICATORS_TIMEFRAMES = env.list("INDICATORS_TIMEFRAMES", default=["15m", "1h", "4h", "1d"])
INDICATORS_HISTORY_CANDLES = env.int("INDICATORS_HISTORY_CANDLES", default=1000)
# What a symbol's first computation reads (later ones go on from its stored state). With fewer than 400, MACD's
# EMAs and Wilder's averages would still remember where the window starts (by more than 1e-12).
if INDICATORS_HISTORY_CANDLES < 400:
    raise ImproperlyConfigured("INDICATORS_HISTORY_CANDLES must be at least 400")
INDICATORS_SHARD_SYMBOLS = env.int("INDICATORS_SHARD_SYMBOLS", default=50)
# Shard tasks wait this long after a candle closes, so that the streamer has stored its last minute.
INDICATORS_SETTLE_SECONDS = env.float("INDICATORS_SETTLE_SECONDS", default=3.0)
# When each timeframe's candle closes (UTC): its indicators are dispatched then.
CANDLE_CLOSES = {
    "5m": crontab(minute="*/5"),
    "15m": crontab(minute="*/15"),
    "30m": crontab(minute="*/30"),
    "1h": crontab(minute=0),
    "2h": crontab(minute=0, hour="*/2"),
    "4h": crontab(minute=0, hour="*/4"),
    "12h": crontab(minute=0, hour="*/12"),
    "1d": crontab(minute=0, hour=0),
}
CELERY_BEAT_SCHEDULE |= {
    f"indicators-{timeframe}": {
        "task": "indicators.dispatch",
        "schedule": CANDLE_CLOSES[timeframe],
        "args": (timeframe,),
    }
    for timeframe in INDICATORS_TIMEFRAMES
}

# The API: session auth for the browser and the admin; for programs, JWTs, API keys (apps.accounts) and the legacy
# tokens (`POST /api/v1/auth/token/`), which work until their owner revokes them. Reading market data is open
# unless API_READ_REQUIRES_AUTH; a user's own objects always need their owner.
API_READ_REQUIRES_AUTH = env.bool("API_READ_REQUIRES_AUTH", default=False)
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "config.api.MultiPartParser",
    ],
    # Token first: a client without credentials is told 401 and how to sign in (WWW-Authenticate: Token).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "apps.accounts.auth.ApiKeyAuthentication",
        "apps.telegram.auth.TelegramInitDataAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.ReadOpenOrAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.AnonRateThrottle", "config.api.UserRateThrottle"],
    # Anonymous clients are counted per IP, signed-in ones per user; the counts live in the cache (Redis).
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
    },
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=None),
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.market.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Crypto Screener API",
    "DESCRIPTION": "Every active Binance spot pair: candles, indicator snapshots and history, the screener.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.api.error_responses"],
}
# Programs and the dashboard sign in with JWTs (`POST /api/v1/auth/jwt/`): an access token is good for
# JWT_ACCESS_TOKEN_LIFETIME_SECONDS, its refresh token for JWT_REFRESH_TOKEN_LIFETIME_SECONDS. Each refresh answers a
# new refresh token and revokes the one it was given; changing the password revokes every token issued before.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_TOKEN_LIFETIME_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_TOKEN_LIFETIME_SECONDS", default=86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_REFRESH_SERIALIZER": "apps.accounts.api.serializers.TokenRefreshSerializer",
}
# The screener's table in each web process: how often it looks for newer tickers and snapshots (seconds).
SCREENER_REFRESH_SECONDS = env.float("SCREENER_REFRESH_SECONDS", default=1.0)

# Users' alerts: how often each process looks whether the rules changed (then rebuilds its index), how long a
# webhook may take to answer, and how many times a delivery that failed for now is tried again (exponential backoff).
ALERTS_INDEX_REFRESH_SECONDS = env.float("ALERTS_INDEX_REFRESH_SECONDS", default=1.0)
ALERTS_WEBHOOK_TIMEOUT_SECONDS = env.float("ALERTS_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
ALERTS_DELIVERY_MAX_RETRIES = env.int("ALERTS_DELIVERY_MAX_RETRIES", default=8)
# Webhooks reach public addresses only (no loopback, private, link-local, multicast or reserved ones), unless the
# address is in one of these networks (CIDR, e.g. 10.0.0.0/8): checked when a rule is saved and at each connection.
ALERTS_WEBHOOK_ALLOWED_NETWORKS = env.list("ALERTS_WEBHOOK_ALLOWED_NETWORKS", default=[])
# One destination (host and port) takes at most this many webhook sends at once; after ALERTS_WEBHOOK_BREAKER_FAILURES
# failures in a row (no answer, 5xx) it is paused for ALERTS_WEBHOOK_BREAKER_SECONDS.
ALERTS_WEBHOOK_CONCURRENCY_PER_DESTINATION = env.int("ALERTS_WEBHOOK_CONCURRENCY_PER_DESTINATION", default=2)
ALERTS_WEBHOOK_BREAKER_FAILURES = env.int("ALERTS_WEBHOOK_BREAKER_FAILURES", default=5)
ALERTS_WEBHOOK_BREAKER_SECONDS = env.int("ALERTS_WEBHOOK_BREAKER_SECONDS", default=300)
# Each user's share: how many alert rules, and how many distinct webhook URLs among them.
ALERTS_MAX_RULES_PER_USER = env.int("ALERTS_MAX_RULES_PER_USER", default=100)
ALERTS_MAX_WEBHOOKS_PER_USER = env.int("ALERTS_MAX_WEBHOOKS_PER_USER", default=5)

# The Telegram bot; without a token it is off (no delivery, no Web App sign-in). Telegram posts updates to
# /telegram/webhook/ with TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -), registered by
# `manage.py telegram_set_webhook URL`; without it the webhook refuses everything.
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
# Under Telegram's flood limits (about 30 messages a second, 1 a second to a chat), shared by every process.
TELEGRAM_MESSAGES_PER_SECOND = env.int("TELEGRAM_MESSAGES_PER_SECOND", default=30)
TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND = env.float("TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND", default=1.0)
# How old a Web App's initData (its auth_date) may be to sign in with.
TELEGRAM_INIT_DATA_MAX_AGE_SECONDS = env.int("TELEGRAM_INIT_DATA_MAX_AGE_SECONDS", default=86400)
CELERY_BEAT_SCHEDULE |= {"telegram-prune": {"task": "telegram.prune", "schedule": crontab(minute=15, hour=3)}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Password guessing (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for one account, or from one address
# (behind API_NUM_PROXIES proxies, the client's own), signing in there is refused for LOGIN_LOCKOUT_MINUTES after
# the last failure: a 429 from the API, a lockout page on the dashboard's and the admin's sign-in pages. The counts
# live in the database, so every process (and the embedded SQLite default) shares them.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15.0))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# TRICKY: a successful sign-in clears nothing (AXES_RESET_ON_SUCCESS stays off): it would clear its address's count,
# so a guesser could sign in to an account of their own between guesses and never be stopped.
AXES_CLIENT_IP_CALLABLE = "apps.login_lockout.axes_hooks.client_address"
AXES_LOCKOUT_CALLABLE = "apps.login_lockout.axes_hooks.lockout_page"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The dashboard's files; static/vendor/ is fetched by the Makefile (`make vendor`), not committed.
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per HTTP request to Binance would drown everything else.
    "loggers": {"httpx": {"level": "WARNING"}},
}
