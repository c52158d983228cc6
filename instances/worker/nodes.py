"""Every tagged node accounted for: each live node carrying a PCM id is the node of exactly
one live instance, or it is an orphan (shown in the admin and the API).

- A node whose instance PCM had called deleted or failed shows up again: the instance is
  revived with the node's status.
- A second node carrying a live instance's id, beside the instance's own node, is a
  duplicate a retried create made, and a node carrying the id of an instance a client
  deleted is unwanted: destroyed (PCM_DESTROY_DUPLICATES) with an event on the instance,
  which stays as it is (the quota it counts does not grow).
- Anything else is an orphan, with the reason.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clouds.models import Cloud
from instances import queue
from instances.choices import Outcome
from instances.models import LIVE, Instance, Orphan
from instances.worker.rows import note
from providers.base import Node, Provider, ProviderError
from providers.status import Status

logger = logging.getLogger("instances.worker")


def account(cloud: Cloud, provider: Provider, listing, counts: Counter) -> None:
    """`listing`: the cycle's reconcile.Listing (nodes by id, live nodes by PCM id)."""
    rows = Instance.objects.filter(cloud=cloud, pk__in=[i for i in listing.tagged if _uuid(i)])
    live = {str(pk): pid for pk, pid in rows.filter(LIVE).values_list("pk", "provider_id")}
    unwanted, gone = set(), set()
    for instance in rows.exclude(LIVE):  # deleted, or failed without a node: it has one
        if _deleted_by_client(instance):
            unwanted.add(str(instance.pk))  # its nodes go, below
        elif _revive(instance, listing.tagged[str(instance.pk)][0]):
            live[str(instance.pk)] = listing.tagged[str(instance.pk)][0].provider_id
            counts["revived"] += 1
        else:
            gone.add(str(instance.pk))
    orphans: list[tuple[Node, str, str | None]] = []
    for pcm_id, nodes in listing.tagged.items():
        provider_id = live.get(pcm_id)
        for node in nodes:
            if provider_id is None:
                if pcm_id in unwanted and _destroyed(provider, pcm_id, node, DELETED_ONES):
                    counts["duplicates"] += 1
                elif pcm_id in unwanted or pcm_id in gone:
                    orphans.append((node, Orphan.Reason.DELETED, pcm_id))
                else:
                    orphans.append((node, Orphan.Reason.UNKNOWN, None))
            elif node.provider_id == provider_id or not provider_id:
                continue  # its node; or a create in flight that provisioning settles
            elif _own_node_listed(listing, provider_id) and _destroyed(
                provider, pcm_id, node, LIVE_ONES
            ):
                counts["duplicates"] += 1
            else:
                orphans.append((node, Orphan.Reason.DUPLICATE, pcm_id))
    _record(cloud, orphans)
    counts["orphans"] = len(orphans)


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _own_node_listed(listing, provider_id: str) -> bool:
    node = listing.by_id.get(provider_id)
    return node is not None and node.status not in (Status.DELETED, Status.DELETING)


def _deleted_by_client(instance: Instance) -> bool:
    """A client deleted it, and the delete was confirmed: any node that still carries its id
    (a retried create's second node, or one the cloud shows again) is unwanted."""
    return (
        instance.status == Status.DELETED
        and instance.events.filter(action="delete", outcome=Outcome.SUCCEEDED).exists()
    )


def _revive(instance: Instance, node: Node) -> bool:
    """PCM called the instance deleted or failed, and its node is listed after all: the
    instance takes the node's status. False when its name is another instance's now."""
    try:
        with transaction.atomic():
            locked = Instance.objects.select_for_update().get(pk=instance.pk)
            locked.provider_id = node.provider_id
            locked.absent_since = None
            locked.node_may_exist = False
            locked.set_status(node.status, node.raw_status)
            locked.inventory_synced = False
            locked.save()
            note(locked, "reconcile", f"revived: its node {node.provider_id} is {node.raw_status}")
            if locked.status not in (Status.RUNNING, Status.STOPPED, Status.ERROR):
                queue.later("watch", settings.PCM_WATCH_SECONDS, locked.pk)
    except IntegrityError:
        logger.warning(
            "Instance %s: node %s listed again, but its name is taken",
            instance.pk,
            node.provider_id,
        )
        return False
    return True


LIVE_ONES = "a second node {} carried this instance's id (a retried create)"
DELETED_ONES = "a node {} still carried this deleted instance's id"


def _destroyed(provider: Provider, pcm_id: str, node: Node, what: str) -> bool:
    """Destroy a node PCM made that nobody wants (a duplicate of a live instance's node, or
    a deleted instance's), with an event on the instance."""
    if not settings.PCM_DESTROY_DUPLICATES:
        return False
    instance = Instance.objects.get(pk=pcm_id)
    what = what.format(node.provider_id)
    try:
        provider.destroy(node.provider_id)
    except ProviderError as exc:
        note(instance, "duplicate", f"{what}: could not destroy it", error=exc.message)
        return False
    note(instance, "duplicate", f"{what}: destroyed")
    return True


def _record(cloud: Cloud, orphans: list[tuple[Node, str, str | None]]) -> None:
    now = timezone.now()
    for node, reason, pcm_id in orphans:
        Orphan.objects.update_or_create(
            cloud=cloud,
            provider_id=node.provider_id,
            defaults={
                "name": node.name,
                "pcm_id": node.pcm_id,
                "raw_status": node.raw_status,
                "reason": reason,
                "instance_id": uuid.UUID(pcm_id) if pcm_id else None,
                "last_seen": now,
            },
        )
    Orphan.objects.filter(cloud=cloud).exclude(
        provider_id__in=[node.provider_id for node, _, _ in orphans]
    ).delete()
