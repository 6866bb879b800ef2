from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.accounts.models import ApiKey


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "scope", "prefix", "created_at"]
        read_only_fields = ["prefix", "created_at"]

    def validate_name(self, name: str) -> str:
        if ApiKey.objects.filter(owner_id=self.context["request"].user.pk, name=name).exists():
            raise serializers.ValidationError("You already have a key of this name.")
        return name


class CreatedApiKeySerializer(ApiKeySerializer):
    """A key as it is created: the one answer that holds the key itself."""

    key = serializers.CharField(read_only=True, help_text="The key itself: shown only now, store it.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """simplejwt's, refusing a refresh token issued before its user's password changed: simplejwt checks that
    (CHECK_REVOKE_TOKEN) on access tokens only, and would go on minting them from the old refresh token."""

    def validate(self, attrs: dict) -> dict:
        claims = self.token_class(attrs["refresh"]).payload
        user = get_user_model().objects.filter(pk=claims.get(jwt_settings.USER_ID_CLAIM)).first()
        if user is None or claims.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
            raise AuthenticationFailed("The password has changed since this token was issued.", "password_changed")
        return super().validate(attrs)
