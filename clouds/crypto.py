"""Encryption at rest for cloud credentials: Fernet keys from PCM_ENCRYPTION_KEYS.

The setting is a comma-separated list of Fernet keys, newest first: the first one encrypts,
all of them decrypt, so a key is rotated by putting a new one in front (MultiFernet).
Without the setting, outside production, a fixed development key is used, with a warning:
it keeps nothing secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

DEVELOPMENT_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"pcm-development-key").digest())
_warned = False


class DecryptionError(Exception):
    """Stored credentials cannot be read with the configured keys."""


def _keys() -> list[bytes]:
    global _warned
    keys = [key.encode() for key in settings.PCM_ENCRYPTION_KEYS]
    if keys:
        return keys
    if not _warned:
        logger.warning(
            "PCM_ENCRYPTION_KEYS is not set: cloud credentials are encrypted with the public "
            "development key. Set it (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())') before storing real credentials."
        )
        _warned = True
    return [DEVELOPMENT_KEY]


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in _keys()])
    except ValueError:
        raise ImproperlyConfigured(
            "PCM_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes)"
        ) from None


def encrypt(data: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, Any]:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise DecryptionError(
            "Stored credentials cannot be decrypted with PCM_ENCRYPTION_KEYS"
        ) from None


def rotate(token: str) -> str:
    """The same secret encrypted with the newest key."""
    return _fernet().rotate(token.encode()).decode()
