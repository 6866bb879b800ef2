from rest_framework.routers import SimpleRouter

from apps.strategies.api.views import SignalViewSet, StrategyViewSet

router = SimpleRouter()
router.register("strategies", StrategyViewSet, basename="strategy")
router.register("signals", SignalViewSet, basename="signal")
urlpatterns = router.urls
