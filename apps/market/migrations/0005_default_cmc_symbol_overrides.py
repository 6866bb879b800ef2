from django.db import migrations

# Binance's names that differ from CoinMarketCap's tickers. 1000- and 1M- are Binance's units of a thousand (a
# million) tokens: spot pairs use 1000SATS, 1000CAT, 1000CHEEMS and 1MBABYDOGE; 1000PEPE to 1000RATS are the futures
# names of the same assets. BTTC is BitTorrent (new), BTT on CMC; RONIN is Ronin, RON on CMC.
DEFAULTS = {
    "1000SATS": "SATS",
    "1000CAT": "CAT",
    "1000CHEEMS": "CHEEMS",
    "1MBABYDOGE": "BABYDOGE",
    "1000PEPE": "PEPE",
    "1000SHIB": "SHIB",
    "1000BONK": "BONK",
    "1000FLOKI": "FLOKI",
    "1000LUNC": "LUNC",
    "1000XEC": "XEC",
    "1000RATS": "RATS",
    "BTTC": "BTT",
    "RONIN": "RON",
}


def create_defaults(apps, schema_editor):
    override = apps.get_model("market", "CmcSymbolOverride")
    for exchange_asset, cmc_symbol in DEFAULTS.items():
        override.objects.get_or_create(exchange_asset=exchange_asset, defaults={"cmc_symbol": cmc_symbol})


class Migration(migrations.Migration):
    dependencies = [("market", "0004_cmc_symbol_override_operation_run")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
