from decimal import Decimal

import factory

from apps.market.models import Symbol


class SymbolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Symbol
        django_get_or_create = ("symbol",)

    symbol = factory.Sequence(lambda n: f"TST{n}USDT")
    base_asset = factory.LazyAttribute(lambda symbol: symbol.symbol.removesuffix("USDT"))
    quote_asset = "USDT"
    status = Symbol.Status.TRADING
    tick_size = Decimal("0.01")
    step_size = Decimal("0.00001")
    is_active = True
