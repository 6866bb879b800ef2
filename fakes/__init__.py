"""Our fake exchange: a real HTTP server on 127.0.0.1 with Binance's wire formats, driven by recorded candles.

Used by the tests, by `make demo` (no internet needed) and by the benchmarks. Never imported by the service itself
except by the `demo` command.
"""
