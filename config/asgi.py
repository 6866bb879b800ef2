import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from apps.screener.asgi import AnonymousScreener  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402


class BrowserOriginValidator(OriginValidator):
    """Refuses cross-site pages, serves programs. Browsers send `Origin` with every WebSocket handshake, and only a
    browser would carry a signed-in user's cookie to another site's page; a program sends no `Origin` (which it
    could forge anyway) and signs in with its own token."""

    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


http_app = AnonymousScreener(django_asgi_app)
if settings.DEBUG:  # `make run` and `make demo` serve the admin's and Swagger UI's files themselves
    http_app = ASGIStaticFilesHandler(http_app)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": BrowserOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), settings.ALLOWED_HOSTS
        ),
    }
)

# Everything loaded so far lives as long as the process: out of the collector's way, its full collections stay
# short (they would otherwise walk all of Django on every one: tens of ms, the tail of every latency).
gc.freeze()
