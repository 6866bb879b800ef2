from django.db import migrations


def _param(name):
    return {"param": name}


def _cross(field, direction, other_field):
    return {"kind": "cross", "field": field, "direction": direction, "other_field": other_field}


# name -> timeframe, description, conditions, parameters. Written once: staff edit (or switch off) them afterwards.
BUILT_IN = {
    "RSI oversold": (
        "1h", "RSI(14) below `level`.",
        {"kind": "threshold", "field": "rsi_14", "op": "lt", "value": _param("level")}, {"level": 30},
    ),
    "RSI overbought": (
        "1h", "RSI(14) above `level`.",
        {"kind": "threshold", "field": "rsi_14", "op": "gt", "value": _param("level")}, {"level": 70},
    ),
    "MACD bullish cross": ("1h", "The MACD line crosses above its signal line.", _cross("macd", "above", "macd_signal"), {}),
    "MACD bearish cross": ("1h", "The MACD line crosses below its signal line.", _cross("macd", "below", "macd_signal"), {}),
    "Bollinger breakout up": ("1h", "The close crosses above the upper Bollinger band (20, 2).", _cross("close", "above", "bb_upper"), {}),
    "Bollinger breakout down": ("1h", "The close crosses below the lower Bollinger band (20, 2).", _cross("close", "below", "bb_lower"), {}),
    "EMA 50/200 golden cross": ("1d", "EMA(50) crosses above EMA(200).", _cross("ema_50", "above", "ema_200"), {}),
    "EMA 50/200 death cross": ("1d", "EMA(50) crosses below EMA(200).", _cross("ema_50", "below", "ema_200"), {}),
    "Pump Radar": (
        "15m",
        "The price up `percent`% within `minutes` minutes (1m candles), with the 15m candle's volume at least "
        "`volume_factor` times its 20-period average.",
        {"all": [
            {"kind": "price_change", "minutes": _param("minutes"), "op": "gte", "percent": _param("percent")},
            {"kind": "volume_spike", "factor": _param("volume_factor")},
        ]},
        {"percent": 5, "minutes": 15, "volume_factor": 3},
    ),
}


def create_built_in(apps, schema_editor):
    strategy = apps.get_model("strategies", "Strategy")
    for name, (timeframe, description, conditions, parameters) in BUILT_IN.items():
        strategy.objects.get_or_create(name=name, defaults={
            "timeframe": timeframe, "description": description, "conditions": conditions, "parameters": parameters,
        })


class Migration(migrations.Migration):
    dependencies = [("strategies", "0001_initial")]

    operations = [migrations.RunPython(create_built_in, migrations.RunPython.noop)]
