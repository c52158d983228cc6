"""Writing down what the cloud said of a node: its id once a create gave one, its status,
and its end. A row becomes `deleted` here only on evidence: the cloud reports the node
terminated, a delete the cloud accepted is no longer found, or reconciliation has not seen
the node in two listings a cycle apart. One NotFound never deletes."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from instances import queue
from instances.choices import STABLE
from instances.models import Instance
from instances.worker.inventory import inventory_sync
from instances.worker.rows import action_pending, finish_event, note
from providers.base import Node
from providers.status import Status

# What recording a node writes (updated_at too: written_since reads it), and what it loads
# of the row it locks: those and what its callers read afterwards, and the secrets, which
# Instance.save() erases (and adds to the columns saved) once the node has an id. Fewer
# columns to compile and fetch than the whole row's 37, in the worker's most frequent
# statements.
WRITES = (
    *("status", "status_since", "raw_status", "last_error", "provider_id", "public_ips"),
    *("private_ips", "absent_since", "node_may_exist", "busy_until", "inventory_synced"),
    *("acted_at", "updated_at"),
)
LOADS = (*WRITES, "id", "cloud_id", "name", "attempts", "secrets_encrypted")


def _locked(instance_pk) -> Instance:
    """The instance's row, locked until the transaction ends, with the columns above (any
    other loads on first use)."""
    return Instance.objects.select_for_update().only(*LOADS).get(pk=instance_pk)


def _deleted(instance: Instance, why: str, raw: str = "", request_id: str = "") -> None:
    """The row's node is gone: a client's delete succeeded, or it went on its own."""
    deleting = instance.status == Status.DELETING
    instance.set_status(Status.DELETED, raw)
    instance.absent_since = None
    instance.node_may_exist = False
    if deleting:
        finish_event(instance, "delete", request_id=request_id)
    else:
        note(instance, "reconcile", why)


def _changed(instance: Instance, before: Status, enqueue_sync: bool, request_id: str) -> None:
    """A new stable status: the Inventory's record follows it (in a task of its own unless
    the caller tells the Inventory itself)."""
    if instance.status != before and instance.status in STABLE:
        instance.inventory_synced = False
        if enqueue_sync:
            queue.enqueue("inventory_sync", instance.pk, request_id)


def apply_node(
    instance_pk,
    node: Node,
    *,
    worker: bool = False,
    enqueue_sync: bool = True,
    request_id: str = "",
    observed_at: datetime | None = None,
) -> Instance:
    """Record what the provider says of the instance's node.

    `worker`: called by the task that holds the instance's lease, which it releases.
    Others (refresh, reconciliation) leave alone a status that a pending action set.
    `enqueue_sync`: tell the Inventory in a task of its own, under `request_id` (a worker
    that goes on to do it itself passes False).
    `observed_at`: when the cloud was asked. A row written after that (a client's
    action, another worker's later look, even one that left the status as it was) is left
    as it is: what the cloud said may be stale.
    """
    with transaction.atomic():
        instance = _locked(instance_pk)
        if observed_at is not None and written_since(instance, observed_at):
            if worker:
                instance.busy_until = None
                instance.save(update_fields=["busy_until"])
            return instance
        before = instance.status
        if node.status == Status.DELETED:
            why = "the cloud reports the node terminated"
            _deleted(instance, why, node.raw_status, request_id)
        elif instance.status == Status.DELETING or (not worker and action_pending(instance)):
            instance.raw_status = node.raw_status  # the pending operation decides
        else:
            instance.set_status(node.status, node.raw_status)
            if node.error:  # the cloud's reason for an error state
                instance.last_error = node.error
        instance.provider_id = node.provider_id
        instance.public_ips = list(node.public_ips)
        instance.private_ips = list(node.private_ips)
        instance.absent_since = None
        instance.node_may_exist = False  # the node is known by its id now
        if worker:
            instance.busy_until = None
        _changed(instance, before, enqueue_sync, request_id)
        instance.save(update_fields=WRITES)
    return instance


def written_since(instance: Instance, moment: datetime) -> bool:
    """Whether the row changed after `moment`: its status, or anything a full save wrote
    (a worker recording what it saw)."""
    return max(instance.status_since, instance.updated_at) > moment


def mark_deleted(instance_pk, why: str, request_id: str = "") -> Instance:
    """The node is gone, on evidence other than a listing of it (see the module)."""
    with transaction.atomic():
        instance = _locked(instance_pk)
        before = instance.status
        if before != Status.DELETED:
            _deleted(instance, why, request_id=request_id)
            instance.busy_until = None
            _changed(instance, before, True, request_id)
            instance.save(update_fields=WRITES)
    return instance


def record_created(instance_id: str, node: Node, request_id: str, *, adopted: bool = False):
    """The provider gave the node an id (or PCM found the node its tag names): save it."""
    with transaction.atomic():
        instance = _locked(instance_id)
        deleting = instance.status == Status.DELETING
        instance.provider_id = node.provider_id
        instance.raw_status = node.raw_status
        if not deleting:
            instance.set_status(node.status if node.status != Status.UNKNOWN else Status.BUILDING)
        instance.public_ips = list(node.public_ips)
        instance.private_ips = list(node.private_ips)
        instance.last_error = ""
        instance.busy_until = None
        instance.node_may_exist = False
        instance.absent_since = None
        if not adopted:
            # The cloud may not show the node for a while from its answer on, however long
            # the call took: the grace window runs from now.
            instance.acted_at = timezone.now()
        instance.save(update_fields=WRITES)
        detail = "adopted the node an earlier attempt made (found by its tag)" if adopted else ""
        finish_event(instance, "create", request_id=request_id, detail=detail)
        if deleting:  # the client deleted it while it was being created
            queue.drive("delete", instance.pk, request_id)
    return instance


def after_step(instance: Instance, request_id: str) -> None:
    """After a provider call: a stable status is final (and the Inventory is told, here
    rather than in one more task); otherwise look again soon."""
    if instance.status in STABLE:
        if not instance.inventory_synced:
            inventory_sync(str(instance.pk), request_id)
    elif instance.status != Status.DELETING or instance.provider_id:
        queue.later("watch", settings.PCM_WATCH_SECONDS, instance.pk, request_id)
