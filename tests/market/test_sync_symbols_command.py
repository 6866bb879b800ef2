"""`manage.py sync_symbols`, which the deployment runs at start, against our fake exchange."""

import pytest
from django.core.management import call_command

from apps.market.models import Symbol
from tests.conftest import service_pointed_at


@pytest.mark.django_db
def test_when_the_24h_tickers_fail_the_symbols_are_synced_with_one_warning_and_no_traceback(exchange, settings, caplog):
    service_pointed_at(exchange, settings)
    settings.BINANCE_MAX_RETRIES = 0
    exchange.weight_limit = 50  # exchangeInfo (weight 20) is answered; every symbol's 24h tickers (80) get a 429
    exchange.retry_after = 1

    call_command("sync_symbols")

    assert Symbol.objects.filter(symbol="BTCUSDT").exists()
    ours = [record for record in caplog.records if record.name == "apps.market.management.commands.sync_symbols"]
    assert [(record.levelname, record.exc_info) for record in ours] == [("WARNING", None)]
    assert "/api/v3/ticker/24hr" in ours[0].getMessage()
