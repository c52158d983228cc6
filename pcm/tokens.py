"""Making and revoking API tokens, for the admin, `manage.py pcm_token` and `make run`.

The key exists only in what create_token() returns: the database keeps knox's digest.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from knox.models import get_digest_token
from knox.settings import CONSTANTS

from pcm.errors import BadRequest
from pcm.models import ApiToken

LIFETIME = re.compile(r"([1-9][0-9]{0,4})([dh])")
TOKEN_KEY_LENGTH = CONSTANTS.TOKEN_KEY_LENGTH  # the key's first characters that knox keeps
DEFAULT = object()  # PCM_TOKEN_TTL_DAYS


def parse_lifetime(text: str) -> timedelta | None:
    """`30d`, `12h` or `never` (None)."""
    if text == "never":
        return None
    match = LIFETIME.fullmatch(text)
    if not match:
        raise BadRequest(f"{text!r} is not a lifetime: use days (30d), hours (12h) or never")
    number, unit = int(match[1]), match[2]
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


def default_lifetime() -> timedelta:
    return timedelta(days=settings.PCM_TOKEN_TTL_DAYS)


def new_key() -> tuple[str, str, str]:
    """A fresh key, its digest and its prefix, made by knox (for a form that saves the row)."""
    digest, key = get_digest_token()
    return key, digest, key[:TOKEN_KEY_LENGTH]


def create_token(
    user, *, name: str = "", read_only: bool = False, lifetime: timedelta | object | None = DEFAULT
) -> tuple[ApiToken, str]:
    """A new token of `user` and its key, which is not stored anywhere: show it once."""
    if lifetime is DEFAULT:
        lifetime = default_lifetime()
    return ApiToken.objects.create(user, expiry=lifetime, name=name, read_only=read_only)


def find_tokens(reference: str):
    """The tokens a `pcm_token revoke` argument names: an id (fewer than 8 digits), or a
    key's first characters (8 or more, since a prefix may be all digits; the whole key
    works too, as only its prefix is kept)."""
    if len(reference) < 8:
        if not reference.isdigit():
            raise BadRequest("Name a token by its id or by at least 8 characters of its prefix")
        return ApiToken.objects.filter(id=int(reference))
    return ApiToken.objects.filter(token_key__startswith=reference[:TOKEN_KEY_LENGTH])


def is_expired(token: ApiToken) -> bool:
    return token.expiry is not None and token.expiry <= timezone.now()
