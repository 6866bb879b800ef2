from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.telegram.api.serializers import LinkCodeSerializer
from apps.telegram.services import link_code_create


class LinkCodeView(APIView):
    """A one-time code that links a Telegram chat to the signed-in user: send `/start CODE` to the bot within 10
    minutes."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: LinkCodeSerializer})
    def post(self, request: Request) -> Response:
        code = link_code_create(user=request.user)
        return Response(LinkCodeSerializer(code).data, status=status.HTTP_201_CREATED)
