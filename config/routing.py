# The live stream endpoint (/ws/stream/) arrives with the streamer; the router is wired now so daphne serves both.
websocket_urlpatterns: list = []
