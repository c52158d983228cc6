"""PCM's URLs plus a few views that fail on purpose, to test the error handler through HTTP.

The read-only API of the foundation cannot produce every error status (it parses no body);
these views can, and they go through exactly the same DRF settings and handler.
"""

from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from pcm.errors import Conflict, LimitExceeded, Unavailable
from pcm.urls import handler400, handler403, handler404, handler500  # noqa: F401
from pcm.urls import urlpatterns as pcm_urlpatterns


class EchoSerializer(serializers.Serializer):
    size = serializers.CharField()
    count = serializers.IntegerField(min_value=1)


class Echo(APIView):
    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class Fails(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        if kind == "conflict":
            raise Conflict("Instance x is deleted: it cannot be rebooted")
        if kind == "unavailable":
            raise Unavailable("Cloud SNV-LAB-1 is disabled")
        if kind == "limits":
            raise LimitExceeded(
                "Requested instance of size c1.large exceeds limits for cloud AWSLAB-1",
                details={"limit": {"vcpus": 8}, "requested": {"vcpus": 16}},
            )
        if kind == "throttled":
            raise Throttled(wait=7)
        raise RuntimeError("boom: an unexpected bug")


urlpatterns = [
    path("pcm_api/v2/test/echo", Echo.as_view()),
    path("pcm_api/v2/test/fail/<str:kind>", Fails.as_view()),
    *pcm_urlpatterns,
]
