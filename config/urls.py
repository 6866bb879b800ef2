from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("apps.monitoring.urls")),
    path("telegram/", include("apps.telegram.urls")),
    path("api/v1/", include("apps.market.api.urls")),
    path("api/v1/", include("apps.indicators.api.urls")),
    path("api/v1/", include("apps.screener.api.urls")),
    path("api/v1/", include("apps.strategies.api.urls")),
    path("api/v1/", include("apps.alerts.api.urls")),
    path("api/v1/", include("apps.telegram.api.urls")),
    path("api/v1/auth/", include("apps.accounts.api.urls")),
    path("api/v1/analytics/", include("apps.analytics.api.urls")),
    path("api/v1/auth/token/", obtain_auth_token, name="auth-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # Django's default LOGIN_URL: where pages for signed-in users send everyone else.
    path(
        "accounts/login/",
        LoginView.as_view(template_name="dashboard/login.html", next_page="dashboard-alerts"),
        name="login",
    ),
    path("accounts/logout/", LogoutView.as_view(next_page="dashboard-screener"), name="logout"),
    path("", include("apps.alerts.urls")),
    path("", include("apps.screener.urls")),
]

# Under /api/ in the API's error format (apps.market.api.errors), elsewhere Django's pages.
handler400 = "apps.market.api.errors.bad_request"
handler403 = "apps.market.api.errors.permission_denied"
handler404 = "apps.market.api.errors.page_not_found"
