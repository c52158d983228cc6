"""The API's root and its catch-all 404."""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from pcm.errors import NotFound
from pcm.handlers import error_response


class ApiRoot(APIView):
    """Where to go from here."""

    @extend_schema(exclude=True)
    def get(self, request):
        return Response(
            {
                name: reverse(route, request=request)
                for name, route in (
                    ("clouds", "cloud-list"),
                    ("sizes", "size-list"),
                    ("images", "image-list"),
                    ("subnets", "subnet-list"),
                    ("roles", "role-list"),
                    ("environments", "env-list"),
                    ("instances", "all-instances"),
                    ("schema", "schema"),
                    ("docs", "docs"),
                )
            }
        )


@csrf_exempt  # a 404 says more than a CSRF failure would; nothing is done here
def no_such_endpoint(request, rest: str = ""):
    """Any path under /pcm_api/ that matches no endpoint: a JSON 404, even with DEBUG on."""
    return error_response(request, NotFound(f"No endpoint at {request.path}"))
