"""Telegram Bot API client. Base URL: settings.TELEGRAM_API_URL; token: settings.TELEGRAM_BOT_TOKEN.

Telegram answers `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description", "parameters"}`.
429 (flood control) is transient and carries `parameters.retry_after`: the chat is held that long in the send
limiter and the error says how long the caller should wait. 5xx, answers that are not Telegram's (a proxy's error
page), timeouts and dropped connections are transient. Anything else is permanent: 400 (chat not found, message
to edit not found), 403 (the user blocked the bot), 401 (a wrong token). Nothing is retried here: the caller (a
Celery task) decides. Every call addressed to a chat first waits for its slot in the send limiter.
"""

from collections.abc import Sequence
from typing import Any

import httpx
from django.conf import settings

from apps.market.transport import TransportError
from apps.telegram.ratelimit import SendLimiter, shared_limiter

TIMEOUT_SECONDS = 10.0
MAX_TEXT_LENGTH = 4096  # Telegram refuses longer messages
MAX_CALLBACK_TEXT_LENGTH = 200

Button = tuple[str, str]  # label, callback data (at most 64 bytes)
Keyboard = Sequence[Sequence[Button]]  # rows of buttons


class TelegramError(TransportError):
    def __init__(
        self, message: str, *, permanent: bool = False, code: int | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, permanent=permanent)
        self.code = code
        self.retry_after = retry_after


def inline_keyboard(buttons: Keyboard) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": label, "callback_data": data} for label, data in row] for row in buttons]}


def _cut(text: str, length: int) -> str:
    # Telegram refuses the whole message when it is too long: the start of it is worth more than nothing.
    return text if len(text) <= length else text[: length - 1] + "…"


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class TelegramBot:
    def __init__(
        self, *, token: str | None = None, base_url: str | None = None, limiter: SendLimiter | None = None
    ) -> None:
        token = settings.TELEGRAM_BOT_TOKEN if token is None else token
        if not token:
            raise TelegramError("TELEGRAM_BOT_TOKEN is not set", permanent=True)
        base_url = (base_url or settings.TELEGRAM_API_URL).rstrip("/")
        self.limiter = limiter or shared_limiter()
        # The token is part of every URL: httpx's request log stays at WARNING (settings.LOGGING), and no error
        # message below names the URL.
        self._http = httpx.Client(base_url=f"{base_url}/bot{token}", timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "TelegramBot":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send_message(self, chat_id: int, text: str, *, buttons: Keyboard | None = None) -> dict[str, Any]:
        """The sent Message (`message_id`, `chat`, `text`...)."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": _cut(text, MAX_TEXT_LENGTH)}
        if buttons:
            params["reply_markup"] = inline_keyboard(buttons)
        return self._call("sendMessage", params)

    def answer_callback_query(self, callback_query_id: str, *, text: str = "") -> bool:
        """Stop the spinner on the pressed button; `text` shows as a short notice."""
        params = {"callback_query_id": callback_query_id, "text": _cut(text, MAX_CALLBACK_TEXT_LENGTH)}
        return self._call("answerCallbackQuery", params)

    def edit_message_reply_markup(
        self, chat_id: int, message_id: int, *, buttons: Keyboard | None = None
    ) -> dict[str, Any]:
        """Replace a message's buttons; without `buttons`, remove them."""
        params: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
        if buttons:
            params["reply_markup"] = inline_keyboard(buttons)
        return self._call("editMessageReplyMarkup", params)

    def set_webhook(self, url: str, *, secret_token: str, allowed_updates: Sequence[str]) -> bool:
        params = {"url": url, "secret_token": secret_token, "allowed_updates": list(allowed_updates)}
        return self._call("setWebhook", params)

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self.limiter.wait(chat_id)
        try:
            response = self._http.post(f"/{method}", json=params)
        except httpx.TransportError as error:
            raise TelegramError(f"{method}: {error.__class__.__name__}: {error}") from error
        body = _body(response)
        if response.is_success and body.get("ok") is True and "result" in body:
            return body["result"]
        raise self._error(method, chat_id, response, body)

    def _error(self, method: str, chat_id: int | None, response: httpx.Response, body: dict[str, Any]) -> TelegramError:
        code = body.get("error_code", response.status_code)
        description = body.get("description") or response.text[:200]
        message = f"{method}: HTTP {response.status_code}: {description}"
        if response.status_code == 429:
            retry_after = (body.get("parameters") or {}).get("retry_after")
            retry_after = retry_after if isinstance(retry_after, int) and retry_after > 0 else 1
            if chat_id is not None:
                self.limiter.hold(chat_id, retry_after)
            return TelegramError(message, code=code, retry_after=retry_after)
        if response.status_code >= 500 or response.is_success:  # a 200 without Telegram's envelope: not Telegram
            return TelegramError(message, code=code)
        return TelegramError(message, permanent=True, code=code)
