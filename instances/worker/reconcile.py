"""Reconciliation: one complete listing of a cloud brings its rows in line with its nodes.

Per row (instances not deleted, and not changed since the listing was asked for, which may
be stale for them): a listed node sets the status; a create whose answer was
lost is adopted by its tag; a build past PCM_BUILD_TIMEOUT fails even while the cloud still
lists it as building; a row whose node the listing lacks is marked absent, and deleted only
when a second listing at least PCM_ABSENCE_GAP later lacks it too (never within the grace
window after a create or a start); work whose task is no longer queued is enqueued again.
Then every tagged node is accounted for (instances/worker/nodes.py), and the Inventory is
told what it has not been told yet.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clouds.models import Cloud
from clouds.services import provider_for
from instances import queue
from instances.choices import TRANSITIONAL
from instances.models import Instance
from instances.worker import nodes as node_accounts
from instances.worker.inventory import release_name
from instances.worker.record import (
    after_step,
    apply_node,
    mark_deleted,
    record_created,
    written_since,
)
from instances.worker.rows import ACTION_STATES, action_pending, fail, in_grace, note
from providers.base import Node
from providers.status import Status

GONE = (Status.DELETED, Status.DELETING)


@dataclass
class Listing:
    """One listing of a cloud: nodes by provider id, and live nodes by the PCM id they carry."""

    by_id: dict[str, Node]
    tagged: dict[str, list[Node]] = field(default_factory=dict)

    @classmethod
    def of(cls, nodes: list[Node]) -> Listing:
        tagged: dict[str, list[Node]] = defaultdict(list)
        for node in nodes:
            if node.pcm_id and node.status not in GONE:
                tagged[node.pcm_id].append(node)
        return cls(by_id={node.provider_id: node for node in nodes}, tagged=dict(tagged))

    def node_of(self, instance: Instance) -> Node | None:
        """The instance's node: by its provider id, or by its tag when it has no id yet."""
        if instance.provider_id:
            return self.by_id.get(instance.provider_id)
        found = self.tagged.get(str(instance.pk))
        return found[0] if found else None


@dataclass
class Cycle:
    """What one reconciliation knows besides the listing."""

    now: datetime  # when the listing was asked for
    queued: set[int]
    counts: Counter

    def old(self, instance: Instance) -> bool:
        deadline = timedelta(seconds=settings.PCM_PENDING_DEADLINE)
        return self.now - instance.status_since > deadline

    def lost(self, instance: Instance) -> bool:
        """No task drives the instance: none queued, none running."""
        return self.old(instance) and instance.task_entry not in self.queued


def reconcile_cloud(cloud: Cloud) -> dict[str, int]:
    provider = provider_for(cloud)
    listed_at = timezone.now()
    listing = Listing.of(provider.list())
    rows = Instance.objects.filter(cloud=cloud).exclude(status=Status.DELETED)
    cycle = Cycle(
        now=listed_at,
        queued=queue.queued(
            rows.filter(status__in=TRANSITIONAL | {Status.PENDING}).values_list(
                "task_entry", flat=True
            )
        ),
        counts=Counter(),
    )
    for instance in rows.iterator():
        if written_since(instance, listed_at):
            continue  # changed since the listing was taken: the listing may be stale for it
        if instance.busy_until and instance.busy_until > timezone.now():
            continue  # a worker is on it
        _reconcile(instance, listing, cycle)
    node_accounts.account(cloud, provider, listing, cycle.counts)
    _tell_inventory(cloud)
    return {key: cycle.counts[key] for key in COUNTS} | dict(cycle.counts)


COUNTS = ("updated", "deleted", "absent", "requeued", "failed", "adopted", "revived", "orphans")


def _reconcile(instance: Instance, listing: Listing, cycle: Cycle) -> None:
    if instance.status in ACTION_STATES and action_pending(instance):
        if cycle.lost(instance):  # the action's task was lost
            queue.drive("act", instance.pk, "", ACTION_STATES[instance.status])
            cycle.counts["requeued"] += 1
        return
    node = listing.node_of(instance)
    if node is None:
        _absent(instance, cycle)
    elif node.status == Status.DELETED:
        apply_node(instance.pk, node, observed_at=cycle.now)  # the cloud reports it terminated
        cycle.counts["deleted"] += 1
    else:
        _present(instance, node, cycle)


def _present(instance: Instance, node: Node, cycle: Cycle) -> None:
    if not instance.provider_id:
        # A create whose answer was lost: the node carries the instance's tag.
        adopted = record_created(str(instance.pk), node, "", adopted=True)
        if instance.status in (Status.PENDING, Status.BUILDING):
            after_step(adopted, "")
        else:
            note(adopted, "reconcile", f"found its node {node.provider_id} by its tag")
        cycle.counts["adopted"] += 1
        return
    if instance.status == Status.DELETING:
        if cycle.lost(instance):
            queue.drive("delete", instance.pk)
            cycle.counts["requeued"] += 1
        return
    if instance.status == Status.ERROR:
        if node.status in (Status.RUNNING, Status.STOPPED):
            apply_node(instance.pk, node, observed_at=cycle.now)
            note(instance, "reconcile", f"revived: the node is {node.raw_status} at the cloud")
            cycle.counts["revived"] += 1
        return  # else it stays failed, and its node counts
    build_age = (cycle.now - instance.status_since).total_seconds()
    if instance.status == Status.BUILDING and build_age > settings.PCM_BUILD_TIMEOUT:
        fail(str(instance.pk), "create", f"still building at the cloud after {int(build_age)} s")
        cycle.counts["failed"] += 1
        return
    seen = (node.status, node.raw_status, node.provider_id)
    if seen != (instance.status, instance.raw_status, instance.provider_id) or (
        instance.absent_since
    ):
        apply_node(instance.pk, node, observed_at=cycle.now)
        cycle.counts["updated"] += 1


def _absent(instance: Instance, cycle: Cycle) -> None:
    """The listing lacks the instance's node."""
    if in_grace(instance):
        return  # the cloud may not list a node it has just made or started
    if instance.provider_id:
        _count_absence(instance, cycle)
    elif instance.node_may_exist and instance.status == Status.ERROR:
        # Failed after a create whose outcome was unknown: the cloud has no node for it.
        with transaction.atomic():
            Instance.objects.filter(pk=instance.pk).update(node_may_exist=False)
            note(instance, "reconcile", "the cloud has no node for it: its name is released")
        release_name(instance)
        cycle.counts["freed"] += 1
    elif instance.status in (Status.PENDING, Status.BUILDING) and cycle.lost(instance):
        queue.drive("provision", instance.pk)
        cycle.counts["requeued"] += 1
    elif instance.status == Status.DELETING and cycle.lost(instance):
        queue.drive("delete", instance.pk)
        cycle.counts["requeued"] += 1


def _count_absence(instance: Instance, cycle: Cycle) -> None:
    """Absent from one listing: noted. From a second one at least PCM_ABSENCE_GAP later:
    the node is gone."""
    if instance.absent_since is None:
        Instance.objects.filter(pk=instance.pk).update(absent_since=cycle.now)
        cycle.counts["absent"] += 1
        return
    gap = (cycle.now - instance.absent_since).total_seconds()
    if gap >= settings.PCM_ABSENCE_GAP:
        mark_deleted(
            instance.pk,
            f"the node is gone at the provider (absent from listings {int(gap)} s apart)",
        )
        cycle.counts["deleted"] += 1


def _tell_inventory(cloud: Cloud) -> None:
    """Stable rows the Inventory has not heard of yet; rows with nothing to tell get no task
    (a failed create without a node: its name was given back)."""
    waiting = (
        Instance.objects.filter(cloud=cloud, inventory_synced=False)
        .exclude(status__in=TRANSITIONAL | {Status.PENDING})
        .exclude(status=Status.ERROR, provider_id="")
        .values_list("pk", flat=True)
    )
    for instance_id in waiting:
        queue.enqueue("inventory_sync", instance_id)
