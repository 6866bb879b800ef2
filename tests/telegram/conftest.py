import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User

from apps.telegram.alert_commands import alert_commands, alert_commands_register
from apps.telegram.models import TelegramChat
from apps.telegram.webhook import SECRET_HEADER
from fakes.telegram_server import FakeTelegram
from tests.conftest import TELEGRAM_WEBHOOK_SECRET

WEBHOOK = "/telegram/webhook/"
SECRET = TELEGRAM_WEBHOOK_SECRET
ALICE_CHAT = 5001  # a private chat: the id of Alice's Telegram account
STRANGER_CHAT = 5002


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", password="pw")


@pytest.fixture
def alice_linked(alice) -> TelegramChat:
    return TelegramChat.objects.create(user=alice, chat_id=ALICE_CHAT)


@dataclass
class RecordingAlerts:
    """An alerts engine that answers each command with what it was asked."""

    calls: list[tuple] = field(default_factory=list)

    def create(self, user, symbol, condition_text):
        self.calls.append(("create", user.username, symbol, condition_text))
        return f"alert 7: {symbol} {condition_text}"

    def list(self, user):
        self.calls.append(("list", user.username))
        return "7: BTCUSDT > 100000"

    def delete(self, user, alert_id):
        self.calls.append(("delete", user.username, alert_id))
        return f"alert {alert_id} deleted"

    def mute(self, user, alert_id):
        self.calls.append(("mute", user.username, alert_id))
        return "all alerts muted" if alert_id is None else f"alert {alert_id} muted"


@pytest.fixture
def alerts() -> Iterator[RecordingAlerts]:
    before = alert_commands()
    engine = RecordingAlerts()
    alert_commands_register(engine)
    yield engine
    alert_commands_register(before)


_update_ids = itertools.count(1000)


def post_update(client, update: dict, *, secret: str | None = SECRET):
    headers = {} if secret is None else {SECRET_HEADER: secret}
    return client.post(WEBHOOK, update, content_type="application/json", headers=headers)


@dataclass
class Chat:
    """A Telegram chat with the bot, through the webhook: what it says and what the bot answers."""

    client: object
    fake: FakeTelegram
    capture: object
    chat_id: int
    chat_type: str = "private"

    def say(self, text: str) -> str:
        """The bot's answer to `text`."""
        before = len(self.fake.texts_to(self.chat_id))
        message = {"message_id": 1, "date": 0, "chat": {"id": self.chat_id, "type": self.chat_type}, "text": text}
        with self.capture(execute=True):
            assert post_update(self.client, {"update_id": next(_update_ids), "message": message}).status_code == 200
        answers = self.fake.texts_to(self.chat_id)[before:]
        assert len(answers) == 1, answers
        return answers[0]

    def press(self, message_id: int, data: str) -> None:
        query = {"id": f"q{message_id}", "from": {"id": self.chat_id, "is_bot": False, "first_name": "A"},
                 "message": {"message_id": message_id, "date": 0, "chat": {"id": self.chat_id, "type": "private"}},
                 "chat_instance": "1", "data": data}  # fmt: skip
        with self.capture(execute=True):
            assert (
                post_update(self.client, {"update_id": next(_update_ids), "callback_query": query}).status_code == 200
            )


@pytest.fixture
def chat(client, fake_telegram, django_capture_on_commit_callbacks, db) -> Chat:
    return Chat(client, fake_telegram, django_capture_on_commit_callbacks, ALICE_CHAT)


@pytest.fixture
def stranger(client, fake_telegram, django_capture_on_commit_callbacks, db) -> Chat:
    return Chat(client, fake_telegram, django_capture_on_commit_callbacks, STRANGER_CHAT)
