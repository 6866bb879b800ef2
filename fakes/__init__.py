"""Our fake exchange: a real HTTP server on 127.0.0.1 with Binance's wire formats, driven by recorded candles.

`market` holds what it serves (`FakeMarket`, `recorded_market`, `demo_market`), `binance_server` the REST API and
the data archive (`FakeBinance`), `binance_stream` the WebSocket streams; `recorded` loads the real data in `data/`
and `derive` builds 1m series from its 1d, 1h and 15m candles. Used by the tests, by `make demo` (no internet
needed) and by the benchmarks; never imported by the service itself except by the `demo` command.
"""
