"""What a strategy's definition may hold: every mistake is refused by the model's clean() with where it is."""

import pytest
from django.core.exceptions import ValidationError

from apps.strategies.models import Strategy
from apps.strategies.validation import MAX_LEAVES

RSI_LOW = {"kind": "threshold", "field": "rsi_14", "op": "lt", "value": 30}


def errors_of(conditions: object, parameters: object = None) -> dict[str, list[str]]:
    strategy = Strategy(name="x", timeframe="1h", conditions=conditions, parameters=parameters or {})
    with pytest.raises(ValidationError) as refused:
        strategy.clean()
    return refused.value.message_dict


def nested(depth: int) -> dict:
    return RSI_LOW if depth == 0 else {"all": [nested(depth - 1)]}


VALID = {
    "a leaf alone": (RSI_LOW, {}),
    "a cross of a field": ({"kind": "cross", "field": "close", "direction": "below", "other_field": "bb_lower"}, {}),
    "a cross of a value": ({"kind": "cross", "field": "macd", "direction": "above", "value": 0}, {}),
    "groups in groups": ({"any": [RSI_LOW, {"all": [RSI_LOW, {"kind": "volume_spike", "factor": 2.5}]}]}, {}),
    "three levels of groups": (nested(3), {}),
    "parameters": (
        {"all": [{"kind": "price_change", "minutes": {"param": "n"}, "op": "gte", "percent": {"param": "x"}},
                 {"kind": "change", "field": "obv", "candles": 3, "op": "gt", "percent": -1.5}]},
        {"n": 15, "x": 5},
    ),
}  # fmt: skip


@pytest.mark.parametrize(("conditions", "parameters"), VALID.values(), ids=VALID.keys())
def test_a_valid_definition_passes(conditions, parameters):
    Strategy(name="x", timeframe="1h", conditions=conditions, parameters=parameters).clean()


INVALID = {
    "not an object": (["all"], {}, "$: a condition is an object"),
    "both all and any": ({"all": [RSI_LOW], "any": [RSI_LOW]}, {}, "$: give exactly one of"),
    "an empty group": ({"any": []}, {}, "$.any: a non-empty list of conditions"),
    "a group not a list": ({"all": RSI_LOW}, {}, "$.all: a non-empty list of conditions"),
    "an unknown kind": ({"kind": "treshold"}, {}, "$.kind: 'treshold' is not one of threshold, cross"),
    "an unknown field": ({**RSI_LOW, "field": "rsi"}, {}, "$.field: 'rsi' is not one of adx_14, atr_14"),
    "an unknown operator": ({**RSI_LOW, "op": "<"}, {}, "$.op: '<' is not one of gt, gte, lt, lte"),
    "a missing key": ({"kind": "threshold", "field": "rsi_14", "op": "lt"}, {}, "$.value: required"),
    "a key of another kind": ({**RSI_LOW, "candles": 3}, {}, "$.candles: not a key of a threshold condition"),
    "a text for a number": ({**RSI_LOW, "value": "30"}, {}, "$.value: '30' is not a number"),
    "a boolean for a number": ({**RSI_LOW, "value": True}, {}, "$.value: True is not a number"),
    "not a finite number": ({**RSI_LOW, "value": float("nan")}, {}, "$.value: nan is not a number"),
    "a cross of both": ({"kind": "cross", "field": "macd", "direction": "above", "value": 0, "other_field": "ema_9"},
                        {}, "$: a cross is of either"),
    "a cross of neither": ({"kind": "cross", "field": "macd", "direction": "above"}, {}, "$: a cross is of either"),
    "a cross sideways": ({"kind": "cross", "field": "macd", "direction": "up", "value": 0}, {}, "$.direction: 'up'"),
    "no candles back": ({"kind": "change", "field": "close", "candles": 0, "op": "gt", "percent": 1}, {},
                        "$.candles: must be a whole number 1 to 500"),
    "part of a candle": ({"kind": "change", "field": "close", "candles": 1.5, "op": "gt", "percent": 1}, {},
                         "$.candles: must be a whole number 1 to 500"),
    "too many minutes": ({"kind": "price_change", "minutes": 241, "op": "gt", "percent": 1}, {},
                         "$.minutes: must be a whole number 1 to 240"),
    "no spike": ({"kind": "volume_spike", "factor": 0}, {}, "$.factor: must be above 0"),
    "a deep mistake": ({"all": [RSI_LOW, {"any": [RSI_LOW, {**RSI_LOW, "op": "eq"}]}]}, {},
                       "$.all[1].any[1].op: 'eq' is not one of"),
    "nested too deep": (nested(4), {}, "$.all[0].all[0].all[0].all: conditions nest at most 4 deep"),
    "too many conditions": ({"any": [RSI_LOW] * (MAX_LEAVES + 1)}, {}, f"$: at most {MAX_LEAVES} conditions"),
    "an unknown parameter": ({**RSI_LOW, "value": {"param": "level"}}, {},
                             "$.value: no parameter 'level' (parameters: none)"),
    "a parameter out of range": ({"kind": "price_change", "minutes": {"param": "n"}, "op": "gt", "percent": 1},
                                 {"n": 0}, "$.minutes: parameter 'n' must be a whole number 1 to 240"),
}  # fmt: skip


@pytest.mark.parametrize(("conditions", "parameters", "message"), INVALID.values(), ids=INVALID.keys())
def test_a_mistake_in_the_conditions_is_refused_with_where_it_is(conditions, parameters, message):
    errors = errors_of(conditions, parameters)

    assert list(errors) == ["conditions"]
    assert any(error.startswith(message) for error in errors["conditions"]), errors


PARAMETER_MISTAKES = {
    "not a number": ({"level": "30"}, "'level': '30' is not a number"),
    "a name that is no name": ({"the level": 30}, "'the level': a name is a letter or _, then letters, digits or _"),
    "unused": ({"level": 30, "spare": 1}, "'spare': not used by any condition"),
}


@pytest.mark.parametrize(("parameters", "message"), PARAMETER_MISTAKES.values(), ids=PARAMETER_MISTAKES.keys())
def test_a_mistake_in_the_parameters_is_refused(parameters, message):
    errors = errors_of({**RSI_LOW, "value": {"param": "level"}}, parameters)

    assert [error[: len(message)] for error in errors["parameters"]] == [message]


def test_parameters_must_be_an_object():
    assert errors_of(RSI_LOW, [30])["parameters"] == ["parameters are an object of names and numbers"]
