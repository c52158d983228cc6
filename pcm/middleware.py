"""Request ids and the small path rules of the API."""

from __future__ import annotations

import logging
import re
import time
import uuid
from http import HTTPStatus

from django.conf import settings
from django.http import JsonResponse
from rest_framework.renderers import BrowsableAPIRenderer

from pcm import nul
from pcm.errors import BadRequest, RequestTooLarge
from pcm.handlers import error_response

# Defined with the plugins, which send it on (the HTTP Inventory's X-Request-ID).
from providers.telemetry import request_id_var

__all__ = ["RequestIdLogFilter", "RequestIdMiddleware", "request_id_var"]

access_logger = logging.getLogger("pcm.requests")

# A client may bring its own id (to follow one call through several systems); anything
# else than a short token is replaced, so that a log line cannot be forged through it.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# The design notes call a cloud a "cloud" and a "location" too.
_CLOUD_ALIAS = re.compile(r"^/pcm_api/v2/(cloud|locations)(?=/|$)")


class RequestIdMiddleware:
    """Gives every request an id: `X-Request-ID` from the client or a new UUID.

    The id is in `request.id`, in every log line of the request (one of them, at the end,
    says what was asked and answered), in the tasks it enqueues and in the response header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.id = given if _CLIENT_ID.match(given) else str(uuid.uuid4())
        token = request_id_var.set(request.id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            access_logger.info(
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={"status": response.status_code, "duration_ms": duration_ms},
            )
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request.id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class ApiPathMiddleware:
    """Under /pcm_api/: aliases, an optional trailing slash, a bounded body, no NUL.

    `/pcm_api/v2/cloud/X` and `/pcm_api/v2/locations/X/...` are served as
    `/pcm_api/v2/clouds/X/...`, so the URL conf and the schema know one name only.
    The design notes write paths without a slash (`/pcm_api/v2/clouds`) and clients add one
    by habit; answering both avoids redirects that would turn a POST into a GET. JSON bodies
    are read by DRF without Django's upload limit, so the limit is applied here. NUL
    characters in the path or the query string are a 400 here (pcm.nul; the body's are
    refused by the JSON parser).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/pcm_api/"):
            if len(path) > len("/pcm_api/") and path.endswith("/"):
                path = path.rstrip("/")
            request.path_info = _CLOUD_ALIAS.sub("/pcm_api/v2/clouds", path)
            place = "the path" if nul.NUL in path else nul.in_query(request.GET)
            if place:
                if place != "the path":
                    place = f"query parameter {place}"
                return error_response(request, BadRequest(nul.message(place)))
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if limit is not None and length > limit:
                return error_response(
                    request,
                    RequestTooLarge(
                        f"The request body is {length} bytes; at most {limit} are accepted"
                    ),
                )
            return as_json_error(self.get_response(request))
        return self.get_response(request)


# Headers an error keeps when it is rewritten as JSON.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "Vary")


def as_json_error(response):
    """An error under /pcm_api/ that some view rendered otherwise (the schema's YAML, the
    Swagger page's HTML 406), as the JSON error; the browsable API's pages stay HTML."""
    content_type = response.get("Content-Type", "")
    if response.status_code < 400 or content_type.startswith("application/json"):
        return response
    if isinstance(getattr(response, "accepted_renderer", None), BrowsableAPIRenderer):
        return response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and "error" in data and "message" in data:
        body = {key: data[key] for key in ("error", "message", "details") if key in data}
    else:
        status = response.status_code
        body = {"error": str(status), "message": HTTPStatus(status).phrase}
    rewritten = JsonResponse(body, status=response.status_code)
    for header in _KEPT_HEADERS:
        if header in response:
            rewritten[header] = response[header]
    return rewritten
