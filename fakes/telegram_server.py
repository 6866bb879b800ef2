"""A real HTTP server on 127.0.0.1 that answers like Telegram's Bot API (`/bot<token>/<method>`) for what the bot
calls: sendMessage (with inline keyboards), answerCallbackQuery, editMessageReplyMarkup and setWebhook.

Telegram's envelopes (`{"ok": true, "result": ...}`, `{"ok": false, "error_code", "description", "parameters"}`),
the token check (401), its refusals (a chat that blocked the bot: 403; a chat that does not exist, an empty or
overlong text, bad button data, an edit that changes nothing: 400; a webhook that is not HTTPS) and, switched on by
tests, flood control (429 with `retry_after`) and server errors (500, or nginx's HTML 502). Every request, message,
notice, edit and the webhook are recorded. The server runs in its own event loop in a daemon thread.

`web_app_init_data` signs a Web App's initData as Telegram does.

Standalone: `python -m fakes.telegram_server --port 8902` (Ctrl-C stops it).
"""

import argparse
import contextlib
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from fakes.http import BackgroundHttpServer, stop_on_signals

TOKEN = "123456789:AAFakeTelegramBotTokenForTests0000000"  # Telegram's shape: the bot's id, a colon, a secret
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Screener", "username": "screener_test_bot"}
MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_TEXT_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
BAD_GATEWAY_PAGE = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"  # noqa: E501


class TelegramFault(Exception):
    """An answer in Telegram's error format."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def response(self) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.status)


def _bad_request(description: str) -> TelegramFault:
    return TelegramFault(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    params: dict[str, Any]
    status: int
    at: float  # time.time() when it arrived


@dataclass
class SentMessage:
    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None


class FakeTelegram(BackgroundHttpServer):
    """`with FakeTelegram() as fake:` serves the Bot API for `fake.token` on 127.0.0.1 (an ephemeral port unless
    `port` is given); point the client at `fake.url`."""

    thread_name = "fake-telegram"

    def __init__(self, *, token: str = TOKEN, port: int = 0) -> None:
        super().__init__(port=port)
        self.token = token
        self.requests: list[RecordedRequest] = []
        self.messages: list[SentMessage] = []
        self.notices: list[dict[str, Any]] = []  # answered callback queries: callback_query_id, text
        self.webhook: dict[str, Any] | None = None
        self.blocked: set[int] = set()  # chats whose user blocked the bot
        self.missing: set[int] = set()  # chats that do not exist
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._failures: deque[tuple[int, int | None]] = deque()
        self._lock = threading.Lock()  # tests change the settings above from their own thread

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/chat/{chat_id}", self._chat_read)
        app.router.add_post("/chat/{chat_id}", self._chat_write)
        return app

    # -- failures, set by tests

    def fail_next(self, count: int, status: int = 500, *, retry_after: int | None = None) -> None:
        """The next `count` requests with the right token answer `status`: 429 (flood control, with
        `retry_after`), 500 in Telegram's format, or 502 as the HTML page of the nginx in front of it."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * count)

    # -- what the bot sent

    def texts_to(self, chat_id: int) -> list[str]:
        with self._lock:
            return [message.text for message in self.messages if message.chat_id == chat_id]

    def requests_of(self, method: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.method == method]

    # -- a person's side of a private chat (`make demo`): what the bot sent them, and what they write to it

    async def _chat_read(self, request: web.Request) -> web.Response:
        chat_id = _int(request.match_info["chat_id"])
        with self._lock:
            sent = [_message(message) for message in self.messages if message.chat_id == chat_id]
        return web.json_response(sent, dumps=lambda data: json.dumps(data, indent=1, ensure_ascii=False))

    async def _chat_write(self, request: web.Request) -> web.Response:
        """Post `text` (form or JSON) as the chat's user to the webhook, as Telegram delivers an update."""
        chat_id = _int(request.match_info["chat_id"])
        text = (await _params(request)).get("text")
        with self._lock:
            webhook = self.webhook
        if chat_id is None or not isinstance(text, str) or not text or webhook is None:
            return web.json_response({"ok": False, "description": "needs a chat id, a text and a webhook"}, status=400)
        user = {"id": chat_id, "is_bot": False, "first_name": f"User {chat_id}"}
        update = {"update_id": next(self._update_ids), "message": {
            "message_id": next(self._message_ids), "from": user, "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()), "text": text,
        }}  # fmt: skip
        headers = {"X-Telegram-Bot-Api-Secret-Token": webhook["secret_token"] or ""}
        async with (
            aiohttp.ClientSession() as session,
            session.post(webhook["url"], json=update, headers=headers) as answer,
        ):
            return web.json_response({"ok": answer.status == 200, "webhook_status": answer.status})

    # -- every request passes here

    async def _handle(self, request: web.Request) -> web.Response:
        method, at = request.match_info["method"], time.time()
        params = await _params(request)
        try:
            response = self._answer(request.match_info["token"], method, params)
        except TelegramFault as fault:
            response = fault.response()
        with self._lock:
            self.requests.append(RecordedRequest(method, params, response.status, at))
        return response

    def _answer(self, token: str, method: str, params: dict[str, Any]) -> web.Response:
        if token != self.token:
            raise TelegramFault(401, "Unauthorized")
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return _failure(*failure)
        handler = {
            "sendMessage": self._send_message,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "setWebhook": self._set_webhook,
        }.get(method)
        if handler is None:
            raise TelegramFault(404, "Not Found")
        return web.json_response({"ok": True, "result": handler(params)})

    # -- methods

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise _bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        markup = _markup(params.get("reply_markup"))
        with self._lock:
            message = SentMessage(next(self._message_ids), chat_id, text, markup)
            self.messages.append(message)
        return _message(message)

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        text = str(params.get("text") or "")
        if len(text) > MAX_CALLBACK_TEXT_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        with self._lock:
            self.notices.append({"callback_query_id": str(params["callback_query_id"]), "text": text})
        return True

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        markup = _markup(params.get("reply_markup"))
        with self._lock:
            found = [
                m for m in self.messages if m.chat_id == chat_id and m.message_id == _int(params.get("message_id"))
            ]
            if not found:
                raise _bad_request("message to edit not found")
            if found[0].reply_markup == markup:
                raise _bad_request(
                    "message is not modified: specified new message content and reply markup are exactly the same "
                    "as a current content and reply markup of the message"
                )
            found[0].reply_markup = markup
            return _message(found[0])

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        with self._lock:
            self.webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed} if url else None
        return True

    def _chat(self, params: dict[str, Any]) -> int:
        chat_id = _int(params.get("chat_id"))
        if chat_id is None:
            raise _bad_request("chat_id is empty")
        with self._lock:
            if chat_id in self.missing:
                raise _bad_request("chat not found")
            if chat_id in self.blocked:
                raise TelegramFault(403, "Forbidden: bot was blocked by the user")
        return chat_id


async def _params(request: web.Request) -> dict[str, Any]:
    """Telegram takes parameters in the query string, a form or a JSON body."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = await request.json()
            params |= body if isinstance(body, dict) else {}
    elif request.can_read_body:
        params |= dict(await request.post())
    return params


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def _markup(value: object) -> dict[str, Any] | None:
    """An InlineKeyboardMarkup, as an object or (in a form) as JSON text; its buttons' callback data checked."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise _bad_request("can't parse reply keyboard markup JSON object") from error
    rows = value.get("inline_keyboard") if isinstance(value, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for button in itertools.chain.from_iterable(rows):
        if not isinstance(button, dict) or not button.get("text"):
            raise _bad_request('can\'t find field "text"')
        data = button.get("callback_data")
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad_request("BUTTON_DATA_INVALID")
    return value


def _message(message: SentMessage) -> dict[str, Any]:
    chat_type = "private" if message.chat_id > 0 else "group"
    found = {"message_id": message.message_id, "from": BOT_USER, "chat": {"id": message.chat_id, "type": chat_type},
             "date": int(time.time()), "text": message.text}  # fmt: skip
    if message.reply_markup:
        found["reply_markup"] = message.reply_markup
    return found


def _failure(status: int, retry_after: int | None) -> web.Response:
    if status == 429:
        after = retry_after or 1
        return TelegramFault(429, f"Too Many Requests: retry after {after}", {"retry_after": after}).response()
    if status == 502:
        return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
    return TelegramFault(status, "Internal Server Error").response()


def web_app_init_data(*, user: dict[str, Any], auth_date: int, token: str = TOKEN, **fields: str) -> str:
    """The initData Telegram gives a Web App opened by `user`: its fields and their hash, as a query string."""
    signed = {"auth_date": str(auth_date), "user": json.dumps(user, separators=(",", ":")), **fields}
    check = "\n".join(f"{name}={value}" for name, value in sorted(signed.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return urlencode({**signed, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fakes.telegram_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8902)
    arguments = parser.parse_args()
    stop = stop_on_signals()
    with FakeTelegram(port=arguments.port) as fake:
        print(f"fake Telegram Bot API on {fake.url}, bot token {fake.token} (Ctrl-C stops it)", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
