"""Watching a node in a transitional status until it is stable, or too late.

A node the cloud does not find is not gone: just after a create or a start an eventually
consistent cloud may not show it yet, and otherwise reconciliation decides on evidence.
Only a delete the cloud accepted and then no longer finds is over here. A node of an
instance being deleted that the cloud shows alive, not going, is deleted again.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clouds.services import provider_for
from instances import queue
from instances.choices import STABLE
from instances.models import Instance
from instances.worker.record import after_step, apply_node, mark_deleted
from instances.worker.rows import by_id, fail, in_grace, lease, logger
from providers.base import Provider, ProviderError
from providers.status import Status

# At most this many nodes asked for in one look.
WATCH_BATCH = 100
# A node the cloud is taking away, or has.
GOING = (Status.DELETING, Status.DELETED)


def claim_peers(instance: Instance) -> tuple[list[tuple], datetime]:
    """Take the lease of the cloud's other nodes being built that no worker holds, so that
    watches running at the same time do not ask for the same nodes: [(pk, provider id)],
    and the lease's end (the caller gives the lease back)."""
    now = timezone.now()
    until = now + lease()
    with transaction.atomic():
        peers = list(
            Instance.objects.select_for_update(skip_locked=True)
            .filter(cloud_id=instance.cloud_id, status=Status.BUILDING)
            .exclude(pk=instance.pk)
            .exclude(provider_id="")
            .exclude(busy_until__gt=now)
            .order_by("status_since")
            .values_list("pk", "provider_id")[: WATCH_BATCH - 1]
        )
        Instance.objects.filter(pk__in=[pk for pk, _ in peers]).update(busy_until=until)
    return peers, until


def record_missing(instance: Instance, provider: Provider, request_id: str) -> Instance:
    """The cloud did not find the node when asked by id: that confirms a delete the cloud
    had accepted (its last word was that the node is going away), and proves nothing else."""
    going = provider.abstract_status(instance.raw_status) in GOING
    if instance.status == Status.DELETING and going:
        return mark_deleted(instance.pk, "the cloud no longer finds the node", request_id)
    if not in_grace(instance):
        logger.info(
            "Instance %s: the cloud does not find node %s", instance.pk, instance.provider_id
        )
    return instance


def watch(instance_id: str, request_id: str = "") -> None:
    """Look at a node in a transitional status again, until it is stable or too late.

    Where the plugin asks for many nodes in one call (EC2's DescribeInstances), one look
    covers the cloud's other nodes being built too, which it holds meanwhile: their
    own watch waits for it, then finds them stable and has only the Inventory left to
    tell, under their own request id.
    """
    instance = by_id(Instance.objects.select_related("cloud"), instance_id)
    if instance is None or not instance.provider_id:
        return
    if instance.status in STABLE:
        after_step(instance, request_id)  # it was looked at with others: tell the Inventory
        return
    if instance.busy_until and instance.busy_until > timezone.now():
        # A worker (or another watch's look) holds it: look after it is done.
        queue.later("watch", settings.PCM_WATCH_SECONDS, instance_id, request_id)
        return
    peers, until = [], None
    asked_at = timezone.now()
    try:
        provider = provider_for(instance.cloud)
        if provider.gets_many_in_one_call:  # else each node is one more call: its own watch
            peers, until = claim_peers(instance)
        nodes = provider.get_many(
            [instance.provider_id, *(provider_id for _, provider_id in peers)]
        )
    except ProviderError as exc:
        logger.info("Instance %s: watch failed (%s)", instance_id, exc.message)
    else:
        node = nodes.get(instance.provider_id)
        if node is None:
            instance = record_missing(instance, provider, request_id)
        elif instance.status == Status.DELETING and node.status not in GOING:
            # Nothing is deleting the node (the delete found no node at the time: a cloud
            # that did not show it yet): ask for the delete again rather than watch a node
            # that will not go.
            queue.drive("delete", instance.pk, request_id)
            logger.info(
                "Instance %s: the node is still %s; deleting it again", instance.pk, node.raw_status
            )
            return
        else:
            instance = apply_node(
                instance.pk, node, enqueue_sync=False, request_id=request_id, observed_at=asked_at
            )
        for pk, provider_id in peers:
            node = nodes.get(provider_id)
            # Still building: nothing to record. Not found: its own watch says so.
            if node is not None and node.status != Status.BUILDING:
                apply_node(pk, node, enqueue_sync=False, observed_at=asked_at)
    finally:
        if peers:
            Instance.objects.filter(pk__in=[pk for pk, _ in peers], busy_until=until).update(
                busy_until=None
            )
    if instance.status in STABLE:
        after_step(instance, request_id)
        return
    age = (timezone.now() - instance.status_since).total_seconds()
    if age > settings.PCM_BUILD_TIMEOUT:
        action = "create" if instance.status == Status.BUILDING else "watch"
        fail(instance_id, action, f"still {instance.status} after {int(age)} s", request_id)
        return
    queue.later("watch", settings.PCM_WATCH_SECONDS, instance_id, request_id)
