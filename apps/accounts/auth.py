"""How programs sign in beside the browser's session: short-lived JWT access tokens with rotating refresh tokens
(djangorestframework-simplejwt, `Authorization: Bearer <access>`), named API keys that may be read-only
(`Authorization: Api-Key <key>`), and the legacy `Authorization: Token <key>`.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.exceptions import APIException, AuthenticationFailed, PermissionDenied
from rest_framework_simplejwt.authentication import JWTAuthentication

from apps.accounts.selectors import api_key_find

KEYWORD = b"api-key"


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: the key's owner; `request.auth` is the ApiKey."""

    def authenticate(self, request):
        scheme, _, credentials = get_authorization_header(request).partition(b" ")
        if scheme.lower() != KEYWORD:
            return None
        api_key = api_key_find(key=credentials.decode("latin-1").strip())
        if api_key is None:
            raise AuthenticationFailed("Invalid API key.")
        # TRICKY: the scope is enforced here, not in a permission class: views set their own permission_classes,
        # which replace the defaults, so a scope check there would be skipped by every view that forgot it.
        if not api_key.allows(request.method):
            raise PermissionDenied("This API key is read-only.")
        return api_key.owner, api_key

    def authenticate_header(self, request) -> str:
        return "Api-Key"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a key from `/api/v1/auth/api-keys/`; a read-only one may only read.",
        }


# The credentials a program sends in its Authorization header, in the order the API tries them.
HEADER_AUTHENTICATIONS = (TokenAuthentication, JWTAuthentication, ApiKeyAuthentication)


def authorization_user(*, authorization: str) -> AbstractBaseUser | None:
    """The user an `Authorization` header value signs in for reading (`Token`, `Bearer` or `Api-Key`), or None.
    For the WebSocket consumers, which DRF's request cycle never reaches: the API's own classes decide, so a
    credential opens a socket exactly when it would open the API."""
    request = HttpRequest()
    request.method = "GET"
    request.META["HTTP_AUTHORIZATION"] = authorization
    for authentication in HEADER_AUTHENTICATIONS:
        try:
            signed_in = authentication().authenticate(request)
        except APIException:
            return None
        if signed_in is not None:
            return signed_in[0]
    return None
