"""Sign-in from the bot's Telegram Web App (Mini App): the app sends the `initData` Telegram gave it as
`Authorization: tma <initData>`. Telegram signs initData with a key derived from the bot token, so a valid hash
proves who the Telegram user is; the user they linked with `/start CODE` (a private chat's id is the user's id)
is who the request is authenticated as.
"""

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from apps.telegram.selectors import chat_user

KEYWORD = b"tma"
# How far ahead of our clock Telegram's auth_date may be: their clock and ours are never exactly in step, but a date
# further ahead would let the initData outlive its max age (a signed date in 2100 would never expire).
CLOCK_SKEW_SECONDS = 60


class InitDataInvalid(Exception):
    pass


def _hash(fields: dict[str, str], bot_token: str) -> str:
    # Telegram's scheme: every field but `hash`, as sorted key=value lines, under HMAC-SHA256 with the key
    # HMAC-SHA256(key="WebAppData", message=bot token).
    check = "\n".join(f"{name}={value}" for name, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def init_data_user(*, init_data: str, bot_token: str, max_age_seconds: float, now: float) -> dict[str, Any]:
    """The Telegram user (`id`, `first_name`, `username`...) of a Web App's initData, once its hash and its age
    (auth_date, neither too old nor ahead of `now`) are checked."""
    try:
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    except ValueError as error:
        raise InitDataInvalid("initData is not a query string") from error
    received = fields.pop("hash", "")
    if not hmac.compare_digest(_hash(fields, bot_token).encode(), received.encode()):
        raise InitDataInvalid("initData is not signed by Telegram for this bot")
    auth_date = fields.get("auth_date", "")
    if not auth_date.isascii() or not auth_date.isdigit() or now - int(auth_date) > max_age_seconds:
        raise InitDataInvalid("initData has expired: open the app again")
    if int(auth_date) - now > CLOCK_SKEW_SECONDS:
        raise InitDataInvalid("initData is dated in the future")
    try:
        user = json.loads(fields["user"])
    except (KeyError, ValueError) as error:
        raise InitDataInvalid("initData names no user") from error
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise InitDataInvalid("initData names no user")
    return user


class TelegramInitDataAuthentication(BaseAuthentication):
    """`Authorization: tma <initData>`: the user whose Telegram account is linked (`/start CODE` in a private
    chat with the bot)."""

    def authenticate(self, request):
        scheme, _, credentials = get_authorization_header(request).partition(b" ")
        if scheme.lower() != KEYWORD:
            return None
        if not settings.TELEGRAM_BOT_TOKEN:
            raise AuthenticationFailed("Telegram sign-in is not configured.")
        try:
            telegram_user = init_data_user(
                init_data=credentials.decode("utf-8", errors="replace").strip(),
                bot_token=settings.TELEGRAM_BOT_TOKEN,
                max_age_seconds=settings.TELEGRAM_INIT_DATA_MAX_AGE_SECONDS,
                now=time.time(),
            )
        except InitDataInvalid as invalid:
            raise AuthenticationFailed(str(invalid)) from invalid
        user = chat_user(chat_id=telegram_user["id"])
        if user is None:
            raise AuthenticationFailed("This Telegram account is not linked: send /start CODE to the bot first.")
        return user, None


class TelegramInitDataScheme(OpenApiAuthenticationExtension):
    target_class = TelegramInitDataAuthentication
    name = "telegramInitData"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`tma <initData>`: the Telegram Web App's initData, of a linked Telegram account.",
        }
