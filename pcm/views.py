"""The API's root, its catch-all 404, and how a view describes itself."""

from __future__ import annotations

from django.utils.encoding import smart_str
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils import formatting
from rest_framework.views import APIView

from pcm.errors import NotFound
from pcm.handlers import error_response


def view_description(view, html: bool = False) -> str:
    """VIEW_DESCRIPTION_FUNCTION: a viewset's page describes the action it shows, as the
    OpenAPI document does (pcm.openapi.AutoSchema); OPTIONS still describes the viewset."""
    action = getattr(view, getattr(view, "action", None) or "", None)
    description = getattr(action, "__doc__", None) or view.__class__.__doc__ or ""
    description = formatting.dedent(smart_str(description))
    return formatting.markup_description(description) if html else description


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
                    ("webhooks", "webhook-list"),
                    ("schema", "schema"),
                    ("docs", "docs"),
                )
            }
        )


@csrf_exempt  # a 404 says more than a CSRF failure would; nothing is done here
def no_such_endpoint(request, rest: str = ""):
    """Any path under /pcm_api/ that matches no endpoint: a JSON 404, even with DEBUG on."""
    return error_response(request, NotFound(f"No endpoint at {request.path}"))
