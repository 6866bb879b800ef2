from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.serializers import ApiKeySerializer, CreatedApiKeySerializer
from apps.accounts.selectors import api_key_list
from apps.accounts.services import api_key_create, api_key_revoke, auth_token_revoke


class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The signed-in user's API keys: create one (the answer holds the key, once), list them, revoke one (DELETE).
    Another user's are not found, whoever asks."""

    serializer_class = ApiKeySerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return api_key_list(owner_id=self.request.user.pk)

    @extend_schema(responses={201: CreatedApiKeySerializer})
    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, key = api_key_create(owner=request.user, **serializer.validated_data)
        created = CreatedApiKeySerializer(api_key).data | {"key": key}
        return Response(created, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance) -> None:
        api_key_revoke(api_key=instance)


class AuthTokenRevokeView(APIView):
    """Revoke the signed-in user's legacy token (from `POST /api/v1/auth/token/`): programs using it are refused
    from then on."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request) -> Response:
        auth_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
