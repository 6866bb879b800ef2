from django.urls import path
from rest_framework.routers import SimpleRouter
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from apps.accounts.api.views import ApiKeyViewSet, AuthTokenRevokeView

router = SimpleRouter()
router.register("api-keys", ApiKeyViewSet, basename="api-key")
urlpatterns = [
    path("jwt/", TokenObtainPairView.as_view(), name="jwt-obtain"),
    path("jwt/refresh/", TokenRefreshView.as_view(), name="jwt-refresh"),
    path("token/revoke/", AuthTokenRevokeView.as_view(), name="auth-token-revoke"),
    *router.urls,
]
