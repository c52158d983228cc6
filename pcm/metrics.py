"""Prometheus metrics at /metrics (docs/observability.md lists them).

Three sources, gathered at each scrape:
- counters and histograms kept by the processes: django-prometheus's `django_http_*`
  (middleware) and the plugins' `pcm_provider_*` and `pcm_inventory_*`
  (providers/telemetry.py). Provider calls are made by qcluster workers, other processes
  than the one answering the scrape: with PROMETHEUS_MULTIPROC_DIR set (for gunicorn and
  qcluster alike, on each host) every process writes its values to files there and the
  scrape adds them up. Without it, only this process's own values are shown.
- gauges read from the database at the scrape (`pcm_instances`, `pcm_instances_busy`,
  `pcm_queue_tasks`): the same on every node, so one query each, not a process's view.

Who may read them: with PCM_METRICS_TOKEN set, a client sending
`Authorization: Bearer <token>`, from anywhere; without it, loopback clients only.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpResponse
from django.utils import timezone
from django_q.models import OrmQ
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from instances.models import Instance
from pcm.errors import Forbidden
from pcm.handlers import error_response


class InstanceCollector:
    """Instances by cloud and status, and those a worker is busy with, from their rows."""

    def collect(self):
        family = GaugeMetricFamily(
            "pcm_instances", "Instances by cloud and status", labels=["cloud", "status"]
        )
        rows = Instance.objects.values("cloud__name", "status").annotate(n=Count("pk")).order_by()
        for row in rows:
            family.add_metric([row["cloud__name"], row["status"]], row["n"])
        yield family
        busy = Instance.objects.filter(busy_until__gt=timezone.now()).count()
        yield GaugeMetricFamily(
            "pcm_instances_busy",
            "Instances a worker holds for a provider call right now (a lease in the row that "
            "has not expired): the provider-bound tasks in progress. Inventory updates, "
            "checks and reconciliations take no lease and are not counted.",
            value=busy,
        )


class QueueCollector:
    """django-q2's ORM broker queue: its rows in the database."""

    def collect(self):
        counts = OrmQ.objects.aggregate(
            total=Count("pk"), waiting=Count("pk", filter=Q(lock__lte=timezone.now()))
        )
        family = GaugeMetricFamily(
            "pcm_queue_tasks",
            "Tasks in django-q2's queue. waiting: due, no worker has taken them yet (grows "
            "when workers are too few); held: taken by a worker and not finished, or "
            "scheduled for later",
            labels=["state"],
        )
        family.add_metric(["waiting"], counts["waiting"])
        family.add_metric(["held"], counts["total"] - counts["waiting"])
        yield family


def registry() -> CollectorRegistry:
    """What one scrape shows."""
    scrape = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scrape)  # every process's files, added up
    else:
        # This process's metrics; a registry is itself a collector.
        scrape.register(REGISTRY)
    scrape.register(InstanceCollector())
    scrape.register(QueueCollector())
    return scrape


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return (mapped or ip).is_loopback


def _allowed(request) -> bool:
    token = settings.PCM_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, f"Bearer {token}".encode())
    return _loopback(request.META.get("REMOTE_ADDR", ""))


def metrics(request):
    if not _allowed(request):
        if settings.PCM_METRICS_TOKEN:
            message = "Metrics need the metrics token (Authorization: Bearer ...)"
        else:
            message = "Metrics are served to local clients only"
        return error_response(request, Forbidden(message))
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
