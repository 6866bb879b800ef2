import factory
from django.contrib.auth.models import User

from apps.alerts.models import AlertRule
from tests.market.factories import SymbolFactory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")


class AlertRuleFactory(factory.django.DjangoModelFactory):
    """A rule on one symbol: the price rising to 100, delivered on the WebSocket, no cooldown."""

    class Meta:
        model = AlertRule

    owner = factory.SubFactory(UserFactory)
    target = AlertRule.Target.SYMBOL
    symbol = factory.SubFactory(SymbolFactory)
    kind = AlertRule.Kind.PRICE_ABOVE
    value = 100
    cooldown_seconds = 0
