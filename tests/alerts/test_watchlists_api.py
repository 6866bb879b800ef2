"""Watchlists are their owner's: anonymous clients, other users and staff (through the API) never see them."""

import pytest
from django.contrib.auth.models import User

from apps.alerts.models import Watchlist
from tests.market.factories import SymbolFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/watchlists/"


@pytest.fixture
def alice():
    return User.objects.create_user("alice", password="pw")


@pytest.fixture
def bob():
    return User.objects.create_user("bob", password="pw")


@pytest.fixture
def alices_list(alice):
    watchlist = Watchlist.objects.create(owner=alice, name="majors")
    watchlist.symbols.set([SymbolFactory(symbol="BTCUSDT"), SymbolFactory(symbol="ETHUSDT")])
    return watchlist


def test_anonymous_clients_cannot_list_watchlists(client, alices_list):
    assert client.get(URL).status_code == 401


def test_a_user_creates_a_watchlist_of_symbols(client, alice):
    SymbolFactory(symbol="BTCUSDT")
    client.force_login(alice)

    response = client.post(URL, {"name": "mine", "symbols": ["BTCUSDT"]}, content_type="application/json")

    assert response.status_code == 201
    assert Watchlist.objects.get(owner=alice, name="mine").symbols.get().symbol == "BTCUSDT"


def test_a_user_lists_only_their_own(client, alices_list, bob):
    Watchlist.objects.create(owner=bob, name="bobs")
    client.force_login(bob)

    assert [watchlist["name"] for watchlist in client.get(URL).json()["results"]] == ["bobs"]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_watchlist_is_not_found(client, alices_list, bob, method):
    client.force_login(bob)

    response = getattr(client, method)(f"{URL}{alices_list.id}/", {"name": "taken"}, content_type="application/json")

    assert response.status_code == 404
    assert Watchlist.objects.get(id=alices_list.id).name == "majors"


def test_staff_see_only_their_own_through_the_api(client, alices_list):
    client.force_login(User.objects.create_user("admin", password="pw", is_staff=True, is_superuser=True))

    assert client.get(f"{URL}{alices_list.id}/").status_code == 404


def test_the_owner_renames_theirs(client, alice, alices_list):
    client.force_login(alice)

    response = client.patch(f"{URL}{alices_list.id}/", {"name": "big"}, content_type="application/json")

    assert response.json()["name"] == "big"


def test_two_watchlists_of_one_owner_cannot_share_a_name(client, alice, alices_list):
    client.force_login(alice)

    response = client.post(URL, {"name": "majors", "symbols": []}, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["name"]


def test_an_unknown_symbol_is_a_400(client, alice):
    client.force_login(alice)

    response = client.post(URL, {"name": "x", "symbols": ["NOPEUSDT"]}, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["symbols"]
