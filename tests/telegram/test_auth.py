"""Signing in with a Telegram Web App's initData: `Authorization: tma <initData>` of a linked Telegram account."""

import time

import pytest

from apps.telegram.auth import CLOCK_SKEW_SECONDS, InitDataInvalid, init_data_user
from fakes.telegram_server import TOKEN, web_app_init_data
from tests.telegram.conftest import ALICE_CHAT

# A real bot's token and initData, as published with Telegram Mini Apps' documentation of init data.
PUBLISHED_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
PUBLISHED_INIT_DATA = (
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_"
    "name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3"
    "Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
)
PUBLISHED_AUTH_DATE = 1662771648
DAY = 86400
ALICE_TELEGRAM = {"id": ALICE_CHAT, "first_name": "Alice", "username": "alice_tg"}
URL = "/api/v1/watchlists/"


def validated(init_data: str, *, token: str = PUBLISHED_TOKEN, now: float = PUBLISHED_AUTH_DATE + 60) -> dict:
    return init_data_user(init_data=init_data, bot_token=token, max_age_seconds=DAY, now=now)


def test_initdata_signed_by_telegram_names_its_user():
    assert validated(PUBLISHED_INIT_DATA)["id"] == 279058397


def test_initdata_signed_for_another_bot_is_refused():
    with pytest.raises(InitDataInvalid, match="not signed"):
        validated(PUBLISHED_INIT_DATA, token="5768337691:another")


def test_initdata_with_a_changed_field_is_refused():
    tampered = PUBLISHED_INIT_DATA.replace("279058397", "279058398")

    with pytest.raises(InitDataInvalid, match="not signed"):
        validated(tampered)


@pytest.mark.parametrize("init_data", ["", "user=1", "no hash at all", "hash=%ZZ"])
def test_initdata_without_a_hash_is_refused(init_data):
    with pytest.raises(InitDataInvalid):
        validated(init_data)


def test_initdata_older_than_the_max_age_is_refused():
    with pytest.raises(InitDataInvalid, match="expired"):
        validated(PUBLISHED_INIT_DATA, now=PUBLISHED_AUTH_DATE + DAY + 1)


def test_initdata_dated_after_now_beyond_the_clock_skew_is_refused():
    with pytest.raises(InitDataInvalid, match="future"):
        validated(PUBLISHED_INIT_DATA, now=PUBLISHED_AUTH_DATE - CLOCK_SKEW_SECONDS - 1)


def test_initdata_dated_after_now_within_the_clock_skew_is_accepted():
    assert validated(PUBLISHED_INIT_DATA, now=PUBLISHED_AUTH_DATE - CLOCK_SKEW_SECONDS)["id"] == 279058397


def test_initdata_signed_without_a_user_is_refused():
    init_data = web_app_init_data(user=ALICE_TELEGRAM, auth_date=int(time.time())).replace("user=", "receiver=")

    with pytest.raises(InitDataInvalid):
        validated(init_data, token=TOKEN, now=time.time())


# -- as API authentication


def tma(init_data: str) -> dict:
    return {"Authorization": f"tma {init_data}"}


@pytest.fixture
def signed_in(settings) -> str:
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    return web_app_init_data(user=ALICE_TELEGRAM, auth_date=int(time.time()), query_id="AAH1")


def test_a_linked_telegram_user_is_signed_in_as_their_user(client, alice_linked, signed_in):
    response = client.get(URL, headers=tma(signed_in))

    assert response.status_code == 200


def test_an_unlinked_telegram_user_is_told_to_link_first(client, alice, signed_in):
    response = client.get(URL, headers=tma(signed_in))

    assert response.status_code == 401
    assert "not linked" in response.json()["error"]["message"]


def test_initdata_with_a_bad_hash_is_a_401(client, alice_linked, signed_in):
    response = client.get(URL, headers=tma(signed_in[:-1] + ("0" if signed_in[-1] != "0" else "1")))

    assert response.status_code == 401


def test_stale_initdata_is_a_401(client, alice_linked, settings):
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_INIT_DATA_MAX_AGE_SECONDS = 3600
    stale = web_app_init_data(user=ALICE_TELEGRAM, auth_date=int(time.time()) - 3601)

    response = client.get(URL, headers=tma(stale))

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_initdata_dated_in_2100_is_a_401(client, alice_linked, settings):
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    year_2100 = 4102444800
    future = web_app_init_data(user=ALICE_TELEGRAM, auth_date=year_2100)

    response = client.get(URL, headers=tma(future))

    assert response.status_code == 401
    assert "future" in response.json()["error"]["message"]


def test_without_a_bot_token_telegram_sign_in_is_off(client, alice_linked, signed_in, settings):
    settings.TELEGRAM_BOT_TOKEN = ""

    assert client.get(URL, headers=tma(signed_in)).status_code == 401
