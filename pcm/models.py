"""The project's own models: the worker heartbeats that /readyz reads (pcm/health.py)."""

from __future__ import annotations

from django.db import models


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
