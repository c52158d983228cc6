"""Health endpoints for load balancers and orchestrators, and the workers' heartbeat.

- `/healthz`: the process answers. 200 `{"status": "ok"}`; it touches nothing else.
- `/readyz`: the process can do its job: the database answers, no migration is
  unapplied, and a django-q2 worker was seen in the last PCM_WORKER_SEEN_SECONDS (0 turns
  that check off). 200 `{"status": "ok", "checks": {...}}`, else 503
  `{"status": "unavailable", "checks": {...}}` where the failed check says why.

How a worker is seen: django-q2 keeps its cluster Stat in Django's cache, which is per
process with the default local-memory cache, so a web process cannot read it. Instead a
worker writes a WorkerHeartbeat row (one per host) when it starts a task (django-q2's
`pre_execute` signal, at most every BEAT_SECONDS per process, so a busy worker does not
write once per task), and a schedule gives an idle cluster a task every minute
(`heartbeat`, pcm/migrations/0002). A recent row therefore proves what readiness needs:
some worker takes tasks from the queue in the shared database. A backlog does not hide it,
because the beat comes from whichever task a worker starts.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max
from django.http import JsonResponse
from django.utils import timezone
from rest_framework.exceptions import MethodNotAllowed

from pcm import metrics
from pcm.handlers import error_response
from pcm.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

BEAT_SECONDS = 15  # a worker process writes its heartbeat at most this often
_last_beat = 0.0  # time.monotonic() of this process's last beat


def beat() -> None:
    """Record that a worker on this host is alive."""
    global _last_beat
    WorkerHeartbeat.objects.update_or_create(
        host=socket.gethostname()[:255],
        defaults={"pid": os.getpid(), "seen_at": timezone.now()},
    )
    _last_beat = time.monotonic()


def heartbeat() -> None:
    """Scheduled every minute: beat, and forget hosts not seen for a day."""
    beat()
    WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()


def task_started(sender, **kwargs) -> None:
    """django-q2's post_spawn and pre_execute signals, in a worker: at its start and
    before each task."""
    if time.monotonic() - _last_beat < BEAT_SECONDS:
        return
    try:
        beat()
    except Exception as exc:  # the task must run even when the beat cannot be written
        logger.warning("Could not write the worker heartbeat: %s", exc)


# -- the checks: each returns "ok" or what is wrong ---------------------------------------


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # whatever the driver raises, the answer is "not ready"
        return f"unreachable ({type(exc).__name__})"
    return "ok"


def check_migrations() -> str:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return f"{len(plan)} migration(s) not applied" if plan else "ok"


def check_workers() -> str:
    seconds = settings.PCM_WORKER_SEEN_SECONDS
    since = timezone.now() - timedelta(seconds=seconds)
    latest = WorkerHeartbeat.objects.aggregate(latest=Max("seen_at"))["latest"]
    return "ok" if latest and latest >= since else f"no worker seen in the last {seconds} s"


def readiness() -> dict[str, str]:
    checks = {"database": check_database()}
    if checks["database"] != "ok":
        checks["migrations"] = "not checked (no database)"
        if settings.PCM_WORKER_SEEN_SECONDS > 0:
            checks["workers"] = "not checked (no database)"
        return checks
    checks["migrations"] = check_migrations()
    if settings.PCM_WORKER_SEEN_SECONDS > 0:
        checks["workers"] = check_workers()
    return checks


# -- the endpoints ------------------------------------------------------------------------


def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request) -> JsonResponse:
    checks = readiness()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


PROBES = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics.metrics}


class ProbeMiddleware:
    """Answers /healthz, /readyz and /metrics ahead of the rest of the stack.

    Load balancers and Prometheus ask by IP address and over plain HTTP: these answers
    build no URL from the Host header, so ALLOWED_HOSTS, the HTTPS redirect, sessions,
    CSRF and DRF's authentication and throttling are not applied to them. They get no
    request id and no access log line either (probes would drown the log).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = PROBES.get(request.path_info)
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return error_response(request, MethodNotAllowed(request.method))
        return view(request)
