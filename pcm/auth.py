"""How API requests authenticate with a token, and what a read-only token may do.

django-rest-knox does the work (a SHA-512 digest compared in constant time, expiry); this
module only refuses malformed keys cleanly and adds the read-only scope.
"""

from __future__ import annotations

import re
from functools import cache

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission

# Every key PCM hands out is lowercase hex: knox's 64 characters, or an old DRF token's 40.
KEY = re.compile(rb"[0-9a-f]{1,128}")


@cache
def _knox():
    # Imported on first use: DRF imports the authentication classes while the settings are
    # still loading (the logging filter imports DRF's views), before knox's models can be.
    from pcm.token_auth import KnoxAuthentication

    return KnoxAuthentication()


class ApiTokenAuthentication(BaseAuthentication):
    """knox's token authentication (`Authorization: Token <key>`), where a key that could
    never be one is 401 `Invalid token.` (knox would fail on bytes that are not UTF-8, and
    a NUL would reach the database)."""

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if len(words) == 2 and words[0].lower() == b"token" and not KEY.fullmatch(words[1]):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return _knox().authenticate(request)

    def authenticate_header(self, request) -> str:
        return _knox().authenticate_header(request)


def is_read_only(request) -> bool:
    """Whether the request came with a read-only token (a session never is one).

    Views whose GET asks a cloud for something (a live refresh, a console) call this too.
    """
    return bool(getattr(request.auth, "read_only", False))


class TokenScope(BasePermission):
    """A read-only token may only read: GET, HEAD and OPTIONS."""

    message = "This API token is read-only: it may only GET, HEAD and OPTIONS"

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or not is_read_only(request)
