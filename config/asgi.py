import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from apps.screener.asgi import AnonymousScreener  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

http_app = AnonymousScreener(django_asgi_app)
if settings.DEBUG:  # `make run` and `make demo` serve the admin's and Swagger UI's files themselves
    http_app = ASGIStaticFilesHandler(http_app)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded so far lives as long as the process: out of the collector's way, its full collections stay
# short (they would otherwise walk all of Django on every one: tens of ms, the tail of every latency).
gc.freeze()
