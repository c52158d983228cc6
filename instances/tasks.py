"""django-q2 tasks: each takes an instance id (and the request id that caused it), and
calls the worker side in instances/provisioning.py. Enqueued by instances/queue.py."""

from __future__ import annotations

from django_q.tasks import async_task

from clouds.models import Cloud
from instances import provisioning
from pcm.middleware import request_id_var


def _traced(request_id: str):
    """Log lines of the task carry the id of the request that enqueued it."""
    return request_id_var.set(request_id or "-")


def provision(instance_id: str, request_id: str = "") -> None:
    token = _traced(request_id)
    try:
        provisioning.provision(instance_id, request_id)
    finally:
        request_id_var.reset(token)


def act(instance_id: str, request_id: str, action: str) -> None:
    token = _traced(request_id)
    try:
        provisioning.act(instance_id, request_id, action)
    finally:
        request_id_var.reset(token)


def delete(instance_id: str, request_id: str = "") -> None:
    token = _traced(request_id)
    try:
        provisioning.delete(instance_id, request_id)
    finally:
        request_id_var.reset(token)


def watch(instance_id: str, request_id: str = "") -> None:
    token = _traced(request_id)
    try:
        provisioning.watch(instance_id, request_id)
    finally:
        request_id_var.reset(token)


def inventory_sync(instance_id: str, request_id: str = "") -> None:
    token = _traced(request_id)
    try:
        provisioning.inventory_sync(instance_id, request_id)
    finally:
        request_id_var.reset(token)


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
    return provisioning.reconcile_cloud(cloud)
