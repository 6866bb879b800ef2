"""Binance: the REST client, its shared request-weight budget and the public data archive, each in one module."""
