import json

import pytest

from apps.strategies.models import Strategy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("built_in")]


def change_form(strategy: Strategy, **changes) -> dict:
    """The admin's change form of an active strategy as submitted, with some fields changed."""
    fields = {"conditions": strategy.conditions, "parameters": strategy.parameters} | changes
    return {"name": strategy.name, "description": strategy.description, "timeframe": strategy.timeframe,
            "is_active": "on", **{name: json.dumps(value) for name, value in fields.items()}}  # fmt: skip


def test_a_built_in_strategy_is_edited_in_the_admin(admin_client):
    strategy = Strategy.objects.get(name="RSI oversold")

    response = admin_client.post(
        f"/admin/strategies/strategy/{strategy.pk}/change/", change_form(strategy, parameters={"level": 25})
    )

    assert response.status_code == 302
    assert Strategy.objects.get(pk=strategy.pk).parameters == {"level": 25}


def test_the_admin_shows_what_is_wrong_with_the_conditions(admin_client):
    strategy = Strategy.objects.get(name="RSI oversold")

    response = admin_client.post(
        f"/admin/strategies/strategy/{strategy.pk}/change/",
        change_form(strategy, conditions=strategy.conditions | {"op": "below"}),
    )

    assert response.status_code == 200
    assert "$.op: &#x27;below&#x27; is not one of gt, gte, lt, lte" in response.content.decode()
    assert Strategy.objects.get(pk=strategy.pk).conditions["op"] == "lt"
