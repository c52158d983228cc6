"""django-q2 tasks: each takes an instance id (and the id of the request that caused it)
and calls the worker side in instances/worker/. Enqueued by instances/queue.py."""

from __future__ import annotations

import functools

from django.conf import settings
from django_q.tasks import async_task

from clouds.models import Cloud
from instances import expiry, idempotency, queue, worker
from pcm.middleware import request_id_var


def _traced(step):
    """The task's log lines carry the id of the request that enqueued it."""

    @functools.wraps(step)
    def task(instance_id: str, request_id: str = "", *args) -> None:
        token = request_id_var.set(request_id or "-")
        try:
            step(instance_id, request_id, *args)
        finally:
            request_id_var.reset(token)

    return task


provision = _traced(worker.provision)
act = _traced(worker.act)
delete = _traced(worker.delete)
watch = _traced(worker.watch)
inventory_sync = _traced(worker.inventory_sync)
push_tags = _traced(worker.push_tags)


def reconcile_clouds() -> int:
    """Scheduled: one reconciliation task per enabled cloud."""
    ids = list(Cloud.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        async_task("instances.tasks.reconcile_cloud", pk, task_name=f"reconcile cloud {pk}")
    return len(ids)


def reconcile_cloud(cloud_pk: int) -> dict[str, int] | None:
    cloud = Cloud.objects.filter(pk=cloud_pk, enabled=True).first()
    if cloud is None:
        return None
    return worker.reconcile_cloud(cloud)


def prune() -> dict[str, int]:
    """Scheduled hourly: what would otherwise grow without end."""
    return {
        "idempotency records": idempotency.prune(),
        "successful tasks": queue.prune_successes(settings.PCM_KEEP_TASKS),
    }


def expire_leases() -> dict[str, int]:
    """Scheduled each minute: warn of leases about to end, delete the ended ones."""
    return {"warned": expiry.warn_expiring(), "expired": expiry.expire_leases()}
