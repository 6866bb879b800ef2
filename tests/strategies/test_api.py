"""The strategies and signals API: reading open like market data, strategies written by staff only, signals
filtered with every bad filter a 400 in the API's error format."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.strategies.models import Signal, Strategy
from tests.market.factories import SymbolFactory
from tests.strategies.factories import CANDLE, FOUR_HOURS, StrategyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("built_in")]

PUMP = {
    "name": "Quick pump",
    "timeframe": "15m",
    "conditions": {"all": [
        {"kind": "price_change", "minutes": {"param": "minutes"}, "op": "gte", "percent": 3},
        {"kind": "volume_spike", "factor": 2},
    ]},
    "parameters": {"minutes": 5},
}  # fmt: skip


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_user("staff", is_staff=True))
    return client


@pytest.fixture
def user_client(client):
    client.force_login(User.objects.create_user("alice"))
    return client


def error(response) -> dict:
    return response.json()["error"]


# -- strategies


def test_anyone_reads_the_strategies(client):
    names = [strategy["name"] for strategy in client.get("/api/v1/strategies/").json()["results"]]

    assert names == sorted(Strategy.objects.values_list("name", flat=True))
    assert "RSI oversold" in names


def test_a_strategy_reads_as_it_is_defined(client):
    strategy = Strategy.objects.get(name="RSI oversold")

    body = client.get(f"/api/v1/strategies/{strategy.pk}/").json()

    assert body | {"created_at": None, "updated_at": None} == {
        "id": strategy.pk, "name": "RSI oversold", "description": strategy.description, "timeframe": "1h",
        "conditions": {"kind": "threshold", "field": "rsi_14", "op": "lt", "value": {"param": "level"}},
        "parameters": {"level": 30}, "is_active": True, "created_at": None, "updated_at": None,
    }  # fmt: skip


def test_staff_create_a_strategy(staff_client):
    response = staff_client.post("/api/v1/strategies/", PUMP, content_type="application/json")

    assert response.status_code == 201
    assert Strategy.objects.get(name="Quick pump").parameters == {"minutes": 5}


def test_an_anonymous_client_cannot_write(client):
    response = client.post("/api/v1/strategies/", PUMP, content_type="application/json")

    assert response.status_code == 401
    assert not Strategy.objects.filter(name="Quick pump").exists()


def test_a_user_who_is_not_staff_cannot_write(user_client):
    strategy = Strategy.objects.get(name="RSI oversold")

    responses = [
        user_client.post("/api/v1/strategies/", PUMP, content_type="application/json"),
        user_client.patch(f"/api/v1/strategies/{strategy.pk}/", {"is_active": False}, content_type="application/json"),
        user_client.delete(f"/api/v1/strategies/{strategy.pk}/"),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert Strategy.objects.get(pk=strategy.pk).is_active


def test_invalid_conditions_are_a_400_saying_where(staff_client):
    conditions = {"all": [{"kind": "threshold", "field": "rsi", "op": "lt", "value": 30}]}

    response = staff_client.post("/api/v1/strategies/", PUMP | {"conditions": conditions, "parameters": {}},
                                 content_type="application/json")  # fmt: skip

    assert response.status_code == 400
    assert error(response)["code"] == "invalid"
    assert list(error(response)["fields"]) == ["conditions"]
    assert error(response)["fields"]["conditions"][0].startswith("$.all[0].field: 'rsi' is not one of")


def test_a_patch_is_checked_with_what_it_leaves_in_place(staff_client):
    strategy = Strategy.objects.get(name="Pump Radar")

    response = staff_client.patch(f"/api/v1/strategies/{strategy.pk}/", {"parameters": {"percent": 5}},
                                  content_type="application/json")  # fmt: skip

    assert response.status_code == 400
    assert error(response)["fields"]["conditions"] == [
        "$.all[0].minutes: no parameter 'minutes' (parameters: percent)",
        "$.all[1].factor: no parameter 'volume_factor' (parameters: percent)",
    ]


def test_staff_edit_a_built_in_strategys_parameters(staff_client):
    strategy = Strategy.objects.get(name="RSI oversold")

    response = staff_client.patch(f"/api/v1/strategies/{strategy.pk}/", {"parameters": {"level": 25}},
                                  content_type="application/json")  # fmt: skip

    assert response.status_code == 200
    assert Strategy.objects.get(pk=strategy.pk).parameters == {"level": 25}


def test_staff_delete_a_strategy(staff_client):
    strategy = StrategyFactory()

    assert staff_client.delete(f"/api/v1/strategies/{strategy.pk}/").status_code == 204
    assert not Strategy.objects.filter(pk=strategy.pk).exists()


# -- signals


@pytest.fixture
def signals():
    """Four signals, a minute and a day of candles apart, the newest last: BTC on two strategies, ETH on one
    twice, on 4h and 1d."""
    btc, eth = SymbolFactory(symbol="BTCUSDT"), SymbolFactory(symbol="ETHUSDT")
    one, two = StrategyFactory(name="One"), StrategyFactory(name="Two", timeframe="1d")
    start = timezone.now() - timedelta(hours=1)
    return [
        Signal.objects.create(symbol=symbol, strategy=strategy, timeframe=strategy.timeframe,
                              open_time=CANDLE + timedelta(days=n), candle_closed=True, values={"rsi_14": 20.0},
                              created_at=start + timedelta(minutes=n))
        for n, (symbol, strategy) in enumerate([(btc, one), (eth, one), (btc, two), (eth, one)])
    ]  # fmt: skip


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [signal["id"] for signal in response.json()["results"]]


def test_signals_are_listed_newest_first(client, signals):
    assert ids(client.get("/api/v1/signals/")) == [signal.id for signal in reversed(signals)]


def test_a_signal_reads_with_its_symbol_strategy_and_values(client, signals):
    newest = client.get("/api/v1/signals/").json()["results"][0]

    assert newest == {
        "id": signals[-1].id, "symbol": "ETHUSDT", "strategy": signals[-1].strategy_id, "strategy_name": "One",
        "timeframe": "4h", "open_time": "2026-01-08T08:00:00Z", "candle_closed": True, "values": {"rsi_14": 20.0},
        "created_at": signals[-1].created_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [("symbol=btcusdt", [2, 0]), ("timeframe=1d", [2]), ("symbol=ETHUSDT&timeframe=4h", [3, 1])],
)
def test_signals_are_filtered_by_symbol_and_timeframe(client, signals, query, expected):
    assert ids(client.get(f"/api/v1/signals/?{query}")) == [signals[index].id for index in expected]


def test_signals_are_filtered_by_strategy(client, signals):
    assert ids(client.get(f"/api/v1/signals/?strategy={signals[2].strategy_id}")) == [signals[2].id]


def test_signals_since_a_time_are_those_created_from_it(client, signals):
    since = signals[2].created_at.isoformat().replace("+00:00", "Z")

    assert ids(client.get("/api/v1/signals/", {"since": since})) == [signals[3].id, signals[2].id]


def test_signals_come_in_pages_of_100(client):
    btc, strategy = SymbolFactory(symbol="BTCUSDT"), StrategyFactory()
    Signal.objects.bulk_create(
        Signal(symbol=btc, strategy=strategy, timeframe="4h", open_time=CANDLE + n * FOUR_HOURS, candle_closed=True,
               values={})
        for n in range(101)
    )  # fmt: skip

    first = client.get("/api/v1/signals/").json()
    second = client.get(first["next"]).json()

    assert (first["count"], len(first["results"]), len(second["results"])) == (101, 100, 1)


BAD_FILTERS = {
    "unknown symbol": ("symbol=NOPEUSDT", "symbol", "Unknown symbol 'NOPEUSDT'."),
    "unknown strategy": ("strategy=999999", "strategy", "No strategy 999999."),
    "strategy not a number": ("strategy=rsi", "strategy", "A valid integer is required."),
    "unknown timeframe": ("timeframe=2h", "timeframe", '"2h" is not a valid choice.'),
    "unreadable time": ("since=yesterday", "since", "Give epoch milliseconds or an ISO 8601 time"),
}


@pytest.mark.parametrize(("query", "field", "message"), BAD_FILTERS.values(), ids=BAD_FILTERS.keys())
def test_a_bad_filter_is_a_400_naming_it(client, signals, query, field, message):
    response = client.get(f"/api/v1/signals/?{query}")

    assert response.status_code == 400
    assert error(response)["code"] == "invalid"
    assert error(response)["fields"][field][0].startswith(message)
