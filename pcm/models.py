"""The project's own models: the worker heartbeats that /readyz reads (pcm/health.py), and
the API tokens (pcm/tokens.py)."""

from __future__ import annotations

from django.db import models
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class WorkerHeartbeat(models.Model):
    """The last time a django-q2 worker on a host was seen starting a task.

    One row per host (the pid is the last worker process that beat), written by
    pcm.health.beat(). Kept in the database because that is what every web process and
    every qcluster node shares; django-q2's own cluster Stat lives in Django's cache,
    which is per process with the default local-memory cache.
    """

    host = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.host} (pid {self.pid}) at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ApiToken(AbstractAuthToken):
    """An API key, stored as django-rest-knox stores it: the SHA-512 digest of the key and
    its first 15 characters (`token_key`, which finds the row and names the token), never
    the key itself. Several per user; each expires (`expiry`, empty: never) and may be
    read-only (safe methods only: pcm.auth.TokenScope).

    knox makes the digest the primary key; here it is a unique field under a plain id, so
    that admin URLs, checkboxes and `pcm_token revoke` never carry it.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True, editable=False)
    name = models.CharField(max_length=100, blank=True, help_text="What or who uses it.")
    read_only = models.BooleanField(
        default=False,
        help_text="A read-only token may only GET (and HEAD, OPTIONS), whatever its user may do.",
    )

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        # knox's own __str__ shows the digest.
        scope = "read-only" if self.read_only else "read-write"
        return f"{self.token_key}... of {self.user} ({self.name or 'unnamed'}, {scope})"
