from rest_framework import serializers

from apps.telegram.models import TelegramLinkCode


class LinkCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = TelegramLinkCode
        fields = ["code", "expires_at"]
