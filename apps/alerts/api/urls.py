from rest_framework.routers import SimpleRouter

from apps.alerts.api.views import AlertEventViewSet, AlertRuleViewSet, WatchlistViewSet

router = SimpleRouter()
router.register("watchlists", WatchlistViewSet, basename="watchlist")
router.register("alerts", AlertRuleViewSet, basename="alert")
router.register("alert-events", AlertEventViewSet, basename="alert-event")
urlpatterns = router.urls
