"""The one place where an exception becomes an error response.

Every layer ends here: DRF views (`api_exception_handler`), Django's own 400/403/404/500
handlers and CSRF failures, and PCM's middleware. The body is always
`{"error": "<status>", "message": "..."}`, plus `details` when the client asks with
`?details=true` (field errors, the request id, and a traceback for staff on a 500).
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views import csrf
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from pcm.errors import PCMError
from providers.registry import UnknownProvider

logger = logging.getLogger("pcm.errors")

_TRUE = ("1", "true", "yes", "on")


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """DRF's nested error detail as readable "field: message" strings."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "detail") else str(key)
            inner = f"{prefix}.{name}" if prefix and name else (prefix or name)
            lines += _flatten(value, inner)
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def _describe(request, exc: BaseException) -> tuple[int, str, dict[str, Any], dict[str, str]]:
    """(status, message, details, headers) for any exception."""
    if isinstance(exc, PCMError):
        return exc.status_code, exc.message, dict(exc.details), {}
    if isinstance(exc, drf.ValidationError):
        return 400, "Invalid input: " + "; ".join(_flatten(exc.detail)), {"fields": exc.detail}, {}
    if isinstance(exc, drf.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return exc.status_code, " ".join(_flatten(exc.detail)), {}, headers
    if isinstance(exc, UnknownProvider):
        # A cloud whose plugin was uninstalled: the configuration is fine, the service is not.
        return 503, f"This cloud's plugin {exc.key!r} is not installed", {}, {}
    if isinstance(exc, Http404):
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else ""
        asked = request.GET.get("format")
        if not message and asked:  # DRF's answer to a ?format= no renderer has
            message = f"No format {asked!r} at {request.path}; ?format=json gives JSON"
        return 404, message or f"Nothing at {request.path}", {}, {}
    if isinstance(exc, PermissionDenied):
        return 403, str(exc) or "You do not have permission to do this", {}, {}
    if isinstance(exc, RequestDataTooBig):
        return 413, "The request body is too large", {}, {}
    if isinstance(exc, SuspiciousOperation):
        return 400, "Bad request", {}, {}
    request_id = getattr(request, "id", "-")
    logger.error(
        "Unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return 500, f"Internal server error (request id {request_id})", {}, {}


def _wants_details(request) -> bool:
    return request.GET.get("details", "").lower() in _TRUE


def error_payload(request, exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    status, message, details, headers = _describe(request, exc)
    body: dict[str, Any] = {"error": str(status), "message": message}
    if getattr(exc, "public_details", False) and details:
        body["details"] = details
    if _wants_details(request):
        details["request_id"] = getattr(request, "id", None)
        user = getattr(request, "user", None)
        if status >= 500 and user is not None and user.is_staff:
            details["traceback"] = traceback.format_exception(exc)
        body["details"] = details
    return status, body, headers


def error_response(request, exc: BaseException) -> JsonResponse:
    status, body, headers = error_payload(request, exc)
    return JsonResponse(body, status=status, headers=headers)


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception in an API view, handled or not."""
    request = context["request"]
    set_rollback()
    status, body, headers = error_payload(request, exc)
    return Response(body, status=status, headers=headers)


# Django's handlers, for what happens outside DRF views (unknown URLs, the admin, CSRF).
def bad_request(request, exception=None):
    return error_response(request, exception or SuspiciousOperation())


def permission_denied(request, exception=None):
    return error_response(request, exception or PermissionDenied())


def page_not_found(request, exception=None):
    return error_response(request, exception or Http404())


def server_error(request):
    exc = sys.exc_info()[1] or RuntimeError("unknown error")
    return error_response(request, exc)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the JSON error under /pcm_api/, Django's page elsewhere (the admin)."""
    if not request.path.startswith("/pcm_api/"):
        return csrf.csrf_failure(request, reason)
    return error_response(
        request,
        PermissionDenied(
            f"CSRF verification failed: {reason} A browser session needs the CSRF token; "
            "API clients authenticate with a token (Authorization: Token <key>) and need none"
        ),
    )
