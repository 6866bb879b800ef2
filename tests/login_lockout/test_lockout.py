"""Password guessing: failed sign-ins are counted per account and per address (django-axes). At LOGIN_FAILURE_LIMIT
failures signing in is refused, even with the right password, until LOGIN_LOCKOUT_MINUTES have passed: a 429 with
Retry-After from the API, a lockout page on the HTML sign-in pages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt

from tests.alerts.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/api/v1/auth/token/"
RIGHT = "pw"  # the factories' password
ATTACKER = "198.51.100.9"


def sign_in(client, username: str, password: str, *, address: str = ATTACKER, forwarded_for: str | None = None):
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return client.post(TOKEN_URL, {"username": username, "password": password}, REMOTE_ADDR=address, headers=headers)


def guess(client, username: str, times: int, **where) -> list[int]:
    return [sign_in(client, username, "guess", **where).status_code for _ in range(times)]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT


def test_wrong_passwords_below_the_limit_are_only_told_they_are_wrong(client, alice, limit):
    assert guess(client, "alice", limit - 1) == [400] * (limit - 1)

    assert sign_in(client, "alice", RIGHT).status_code == 200


def test_at_the_limit_the_token_endpoint_refuses_even_the_right_password_with_a_429(client, alice, limit):
    assert guess(client, "alice", limit)[-1] == 429

    response = sign_in(client, "alice", RIGHT)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert "Too many failed sign-ins" in response.json()["error"]["message"]
    assert response["Retry-After"] == "900"


def test_an_account_is_locked_whichever_addresses_the_guesses_come_from(client, alice, limit):
    for number in range(limit):
        guess(client, "alice", 1, address=f"203.0.113.{number}")

    assert sign_in(client, "alice", RIGHT, address="192.0.2.1").status_code == 429


def test_an_address_is_locked_whichever_accounts_it_guesses(client, alice, limit):
    for number in range(limit):
        guess(client, f"someone{number}", 1)

    assert sign_in(client, "alice", RIGHT).status_code == 429
    assert sign_in(client, "alice", RIGHT, address="192.0.2.1").status_code == 200


def test_a_forged_x_forwarded_for_does_not_make_a_new_address(client, alice, limit):
    for number in range(limit):
        guess(client, f"someone{number}", 1, forwarded_for=f"203.0.113.{number}")

    assert sign_in(client, "alice", RIGHT, forwarded_for="192.0.2.1").status_code == 429


def test_behind_api_num_proxies_each_client_is_counted_by_its_forwarded_address(client, alice, limit, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.2"
    for number in range(limit):
        guess(client, f"someone{number}", 1, address=proxy, forwarded_for=f"192.0.2.1, {ATTACKER}")

    assert sign_in(client, "alice", RIGHT, address=proxy, forwarded_for=ATTACKER).status_code == 429
    assert sign_in(client, "alice", RIGHT, address=proxy, forwarded_for="192.0.2.1").status_code == 200


def test_the_lock_lifts_once_the_lockout_time_has_passed(client, alice, limit, settings):
    guess(client, "alice", limit)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME)

    assert sign_in(client, "alice", RIGHT).status_code == 200


@pytest.mark.parametrize("page", ["/accounts/login/", "/admin/login/"])
def test_a_sign_in_page_answers_a_locked_out_account_with_a_lockout_message(client, alice, limit, page):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    for _ in range(limit):
        client.post(page, {"username": "alice", "password": "guess"}, REMOTE_ADDR=ATTACKER)

    response = client.post(page, {"username": "alice", "password": RIGHT}, REMOTE_ADDR=ATTACKER)

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "Try again in 15 minutes" in response.content.decode()
    assert response["Retry-After"] == "900"
    assert "_auth_user_id" not in client.session


GUESS_ON_SQLITE = """
from django.contrib.auth.models import User
from django.test import Client
User.objects.create_user("alice", password="pw")
client = Client(HTTP_HOST="localhost")
print([client.post("/api/v1/auth/token/", {"username": "alice", "password": password}).status_code
       for password in ["guess"] * 5 + ["pw"]])
"""


def test_the_embedded_default_locks_out_on_sqlite_without_redis(tmp_path):
    environment = {
        key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    for arguments in (["migrate", "--no-input"], ["shell", "-c", GUESS_ON_SQLITE]):
        done = subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr

    assert done.stdout.strip().splitlines()[-1] == "[400, 400, 400, 400, 429, 429]"
