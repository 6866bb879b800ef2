"""Linking a Telegram chat to a user: a one-time code from the API or the admin, sent to the bot as `/start CODE`
within 10 minutes."""

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.telegram.bot import PRIVATE_ONLY
from apps.telegram.models import TelegramChat, TelegramLinkCode
from tests.telegram.conftest import Chat

pytestmark = pytest.mark.django_db

URL = "/api/v1/telegram/link-code/"
TEN_MINUTES = timedelta(minutes=10)


def test_anonymous_clients_get_no_code(client):
    assert client.post(URL).status_code == 401


def test_a_signed_in_user_gets_a_code_valid_for_ten_minutes(client, alice):
    client.force_login(alice)

    before = timezone.now()
    response = client.post(URL)
    after = timezone.now()

    assert response.status_code == 201
    assert before + TEN_MINUTES <= datetime.fromisoformat(response.json()["expires_at"]) <= after + TEN_MINUTES
    assert TelegramLinkCode.objects.get(code=response.json()["code"]).user == alice


def test_each_code_is_new(client, alice):
    client.force_login(alice)

    assert client.post(URL).json()["code"] != client.post(URL).json()["code"]


def test_staff_create_a_code_for_a_user_in_the_admin(admin_client, alice):
    response = admin_client.post("/admin/telegram/telegramlinkcode/add/", {"user": alice.pk})

    assert response.status_code == 302
    assert TelegramLinkCode.objects.get().user == alice


def test_start_with_a_code_links_the_chat(chat, alice):
    code = TelegramLinkCode.objects.create(user=alice).code

    assert chat.say(f"/start {code}").startswith("This chat is now linked to alice")
    assert TelegramChat.objects.get(chat_id=chat.chat_id).user == alice


def test_a_code_works_once(chat, stranger, alice):
    code = TelegramLinkCode.objects.create(user=alice).code
    chat.say(f"/start {code}")

    assert stranger.say(f"/start {code}") == "This code was already used: create a new one in the app."
    assert not TelegramChat.objects.filter(chat_id=stranger.chat_id).exists()


def test_an_expired_code_links_nothing(chat, alice):
    code = TelegramLinkCode.objects.create(user=alice, expires_at=timezone.now() - timedelta(seconds=1)).code

    assert chat.say(f"/start {code}") == "This code has expired: create a new one in the app."
    assert not TelegramChat.objects.exists()


def test_a_group_cannot_be_linked(client, fake_telegram, django_capture_on_commit_callbacks, alice):
    group = Chat(client, fake_telegram, django_capture_on_commit_callbacks, -100123, chat_type="supergroup")
    code = TelegramLinkCode.objects.create(user=alice).code

    assert group.say(f"/start {code}") == PRIVATE_ONLY
    assert not TelegramChat.objects.exists()
    assert TelegramLinkCode.objects.get(code=code).used_at is None


def test_an_unknown_code_links_nothing(chat):
    assert chat.say("/start nosuchcode") == "This code is unknown: create a new one in the app."


def test_a_chat_linked_again_belongs_to_the_new_user(chat, alice_linked):
    bob = User.objects.create_user("bob", password="pw")
    code = TelegramLinkCode.objects.create(user=bob).code

    chat.say(f"/start {code}")

    assert TelegramChat.objects.get(chat_id=chat.chat_id).user == bob
