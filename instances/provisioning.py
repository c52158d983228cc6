"""The worker side of an instance's life: provider calls made in django-q2 tasks.

Every step can run twice (a redelivered task, a worker killed mid-way) without doing
the provider call twice: a worker first claims the instance (a short lease in its row,
committed before any provider call), a create looks for a node tagged with the
instance's id before creating one, and the row's status says what is left to do.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clouds.models import Cloud
from clouds.services import inventory_for, provider_for
from instances import queue
from instances.choices import STABLE, Outcome
from instances.faults import crash_point
from instances.models import Instance, InstanceEvent, Orphan
from providers.base import CreateOptions, Node, NotFoundAtProvider, ProviderError
from providers.inventory.base import InventoryError, SystemRecord
from providers.status import Status

logger = logging.getLogger(__name__)

ACTION_CALLS = {"reboot": "reboot", "stop": "stop", "start": "start"}
TRANSITIONAL = {Status.REBOOTING, Status.STOPPING, Status.STARTING, Status.BUILDING}


def _lease() -> timedelta:
    return timedelta(seconds=settings.PCM_LEASE_SECONDS)


def _claim(instance_id: str, statuses: set[Status], *, count_attempt: bool = False):
    """Lock the row and take the lease, or None when there is nothing to do (another status)
    or "busy" when another worker holds the lease."""
    now = timezone.now()
    with transaction.atomic():
        instance = Instance.objects.select_for_update().filter(pk=instance_id).first()
        if instance is None or instance.status not in statuses:
            return None
        if instance.busy_until and instance.busy_until > now:
            return "busy"
        instance.busy_until = now + _lease()
        fields = ["busy_until"]
        if count_attempt:
            instance.attempts += 1
            fields.append("attempts")
        instance.save(update_fields=fields)
    return instance


def _finish_event(instance: Instance, action: str, error: str = "", request_id: str = "") -> None:
    event = (
        InstanceEvent.objects.filter(instance=instance, action=action, outcome=Outcome.RUNNING)
        .order_by("-started_at")
        .first()
    )
    if event is None:
        event = InstanceEvent.objects.create(
            instance=instance, actor="pcm", action=action, request_id=request_id
        )
    event.finish(error)


def _fail(instance_id: str, action: str, error: str, request_id: str = "") -> None:
    with transaction.atomic():
        instance = Instance.objects.select_for_update().get(pk=instance_id)
        instance.set_status(Status.ERROR)
        instance.last_error = error
        instance.busy_until = None
        instance.save()
        _finish_event(instance, action, error, request_id)
    logger.warning("Instance %s: %s failed: %s", instance_id, action, error)


ACTION_STATES = {Status.REBOOTING: "reboot", Status.STOPPING: "stop", Status.STARTING: "start"}


def _action_pending(instance: Instance) -> bool:
    """A client's reboot/stop/start is accepted but its task has not called the provider."""
    action = ACTION_STATES.get(instance.status)
    return (
        bool(action)
        and InstanceEvent.objects.filter(
            instance=instance, action=action, outcome=Outcome.RUNNING
        ).exists()
    )


def apply_node(
    instance_pk,
    node: Node | None,
    *,
    worker: bool = False,
    enqueue_sync: bool = True,
    request_id: str = "",
) -> Instance:
    """Record what the provider says of the instance's node (None: it is gone).

    `worker`: called by the task that holds the instance's lease, which it releases.
    Others (refresh, reconciliation) leave alone a status that a pending action set.
    `enqueue_sync`: tell the Inventory in a task of its own, under `request_id` (a worker
    that goes on to do it itself passes False).
    """
    with transaction.atomic():
        instance = Instance.objects.select_for_update().get(pk=instance_pk)
        before = instance.status
        if node is None or node.status == Status.DELETED:
            instance.set_status(Status.DELETED, node.raw_status if node else "")
        elif instance.status == Status.DELETING or (not worker and _action_pending(instance)):
            instance.raw_status = node.raw_status  # the pending operation decides
        else:
            instance.set_status(node.status, node.raw_status)
        if node is not None:
            instance.provider_id = node.provider_id
            instance.public_ips = list(node.public_ips)
            instance.private_ips = list(node.private_ips)
        if worker:
            instance.busy_until = None
        if instance.status != before and instance.status in STABLE:
            instance.inventory_synced = False  # the Inventory's record follows the status
        instance.save()
    stable_now = instance.status != before and instance.status in STABLE
    if enqueue_sync and stable_now and not instance.inventory_synced:
        queue.on_commit("inventory_sync", instance.pk, request_id)
    return instance


def _record_created(instance_id: str, node: Node, request_id: str) -> Instance:
    """The provider gave the node an id: save it at once."""
    with transaction.atomic():
        instance = Instance.objects.select_for_update().get(pk=instance_id)
        deleting = instance.status == Status.DELETING
        instance.provider_id = node.provider_id
        instance.raw_status = node.raw_status
        if not deleting:
            instance.set_status(node.status if node.status != Status.UNKNOWN else Status.BUILDING)
        instance.public_ips = list(node.public_ips)
        instance.private_ips = list(node.private_ips)
        instance.last_error = ""
        instance.busy_until = None
        instance.save()
        _finish_event(instance, "create", request_id=request_id)
        if deleting:  # the client deleted it while it was being created
            queue.on_commit("delete", instance.pk, request_id)
    return instance


def _different_hosts(instance: Instance) -> tuple[str, ...]:
    """Anti-affinity: the provider ids of the role's live instances in this cloud and
    environment, when the role spreads over hosts."""
    if not (instance.role and instance.role.spread_over_hosts):
        return ()
    others = (
        Instance.objects.live()
        .filter(cloud=instance.cloud, role=instance.role, environment=instance.environment)
        .exclude(pk=instance.pk)
        .exclude(provider_id="")
        .values_list("provider_id", flat=True)
    )
    return tuple(sorted(others))


def provision(instance_id: str, request_id: str = "") -> None:
    claimed = _claim(instance_id, {Status.PENDING, Status.BUILDING}, count_attempt=True)
    if claimed is None:
        return
    if claimed == "busy":
        queue.later("provision", settings.PCM_WATCH_SECONDS, instance_id, request_id)
        return
    instance: Instance = claimed
    if instance.provider_id:  # created already (a re-run after a crash): only waiting is left
        Instance.objects.filter(pk=instance.pk).update(busy_until=None)
        watch(instance_id, request_id)
        return
    if instance.attempts > settings.PCM_MAX_ATTEMPTS:
        _give_up(instance, f"gave up after {instance.attempts - 1} attempts", request_id)
        return
    Instance.objects.filter(pk=instance.pk, status=Status.PENDING).update(
        status=Status.BUILDING, status_since=timezone.now()
    )
    cloud = instance.cloud
    crash_point("before_provider_call", instance.attempts)
    try:
        provider = provider_for(cloud)
        # A retry may follow a call that reached the provider: adopt what it made.
        node = provider.find(str(instance.pk)) if instance.attempts > 1 else None
        if node is None:
            spread = bool(instance.role and instance.role.spread_over_hosts)
            node = provider.create(
                instance.name,
                instance.provider_size_id,
                instance.provider_image_id,
                CreateOptions(
                    pcm_id=str(instance.pk),
                    extra=instance.extra,
                    different_host=_different_hosts(instance),
                    placement_group=cloud.placement_group if spread else "",
                ),
            )
    except ProviderError as exc:
        if exc.transient and instance.attempts < settings.PCM_MAX_ATTEMPTS:
            Instance.objects.filter(pk=instance.pk).update(busy_until=None, last_error=exc.message)
            delay = settings.PCM_WATCH_SECONDS * 2**instance.attempts
            queue.later("provision", delay, instance_id, request_id)
            logger.info("Instance %s: create failed (%s); retrying", instance_id, exc.message)
        else:
            _give_up(instance, exc.message, request_id)
        return
    crash_point("after_provider_call", instance.attempts)
    instance = _record_created(instance_id, node, request_id)
    crash_point("after_commit", instance.attempts)
    # A new node is seldom running yet: it is looked at again in a while, together with
    # the cloud's other new nodes (watch).
    _after_step(instance, request_id)


def _give_up(instance: Instance, error: str, request_id: str) -> None:
    _fail(str(instance.pk), "create", error, request_id)
    try:
        inventory_for(instance.cloud).release(cloud=instance.cloud.name, name=instance.name)
    except InventoryError as exc:
        logger.warning("Could not release name %s: %s", instance.name, exc.message)


def _after_step(instance: Instance, request_id: str) -> None:
    """After a provider call: a stable status is final (and the Inventory is told, here
    rather than in one more task); otherwise look again soon."""
    if instance.status in STABLE:
        if not instance.inventory_synced:
            inventory_sync(str(instance.pk), request_id)
    elif instance.status != Status.DELETING or instance.provider_id:
        queue.later("watch", settings.PCM_WATCH_SECONDS, instance.pk, request_id)


def act(instance_id: str, request_id: str, action: str) -> None:
    transitional = {"reboot": Status.REBOOTING, "stop": Status.STOPPING, "start": Status.STARTING}
    claimed = _claim(instance_id, {transitional[action]})
    if claimed is None:
        return
    if claimed == "busy":
        queue.later("act", settings.PCM_WATCH_SECONDS, instance_id, request_id, action)
        return
    instance: Instance = claimed
    try:
        provider = provider_for(instance.cloud)
        getattr(provider, ACTION_CALLS[action])(instance.provider_id)
        node = provider.get(instance.provider_id)
    except ProviderError as exc:
        _action_failed(instance, action, exc, request_id)
        return
    with transaction.atomic():
        _finish_event(instance, action, request_id=request_id)
    instance = apply_node(instance.pk, node, worker=True, enqueue_sync=False)
    _after_step(instance, request_id)


def _action_failed(instance: Instance, action: str, exc: ProviderError, request_id: str) -> None:
    """The action failed: the instance goes back to what the provider says it is."""
    try:
        node = provider_for(instance.cloud).get(instance.provider_id)
    except ProviderError:
        node = None
    with transaction.atomic():
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        if node is not None:
            locked.set_status(node.status, node.raw_status)
        else:
            locked.set_status(Status.UNKNOWN)
        locked.last_error = exc.message
        locked.busy_until = None
        locked.save()
        _finish_event(locked, action, exc.message, request_id)
    if locked.status not in STABLE:
        queue.later("watch", settings.PCM_WATCH_SECONDS, locked.pk, request_id)


def delete(instance_id: str, request_id: str = "") -> None:
    claimed = _claim(instance_id, {Status.DELETING})
    if claimed is None:
        return
    if claimed == "busy":
        queue.later("delete", settings.PCM_WATCH_SECONDS, instance_id, request_id)
        return
    instance: Instance = claimed
    try:
        provider = provider_for(instance.cloud)
        provider_id = instance.provider_id
        if not provider_id:  # a create may have reached the provider before a crash
            found = provider.find(str(instance.pk))
            provider_id = found.provider_id if found else ""
        node = None
        if provider_id:
            with contextlib.suppress(NotFoundAtProvider):  # gone already: as asked
                provider.destroy(provider_id)
            node = provider.get(provider_id)
    except ProviderError as exc:
        Instance.objects.filter(pk=instance.pk).update(busy_until=None, last_error=exc.message)
        if exc.transient:
            queue.later("delete", settings.PCM_WATCH_SECONDS * 4, instance_id, request_id)
        else:
            _fail(instance_id, "delete", exc.message, request_id)
        return
    instance = apply_node(instance.pk, node, worker=True, enqueue_sync=False)
    if instance.status == Status.DELETED:
        with transaction.atomic():
            _finish_event(instance, "delete", request_id=request_id)
    _after_step(instance, request_id)


# At most this many nodes asked for in one look (watch).
WATCH_BATCH = 100


def _claim_peers(instance: Instance) -> tuple[list[tuple], datetime]:
    """Take the lease of the cloud's other nodes being built that no worker holds, so that
    watches running at the same time do not ask for the same nodes: [(pk, provider id)],
    and the lease's end (the caller gives the lease back)."""
    now = timezone.now()
    until = now + _lease()
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


def watch(instance_id: str, request_id: str = "") -> None:
    """Look at a node in a transitional status again, until it is stable or too late.

    Where the plugin asks for many nodes in one call (EC2's DescribeInstances), one look
    covers the cloud's other nodes being built too, which it holds meanwhile: their
    own watch waits for it, then finds them stable and has only the Inventory left to
    tell, under their own request id.
    """
    instance = Instance.objects.select_related("cloud").filter(pk=instance_id).first()
    if instance is None or not instance.provider_id:
        return
    if instance.status in STABLE:
        _after_step(instance, request_id)  # it was looked at with others: tell the Inventory
        return
    if instance.busy_until and instance.busy_until > timezone.now():
        # A worker (or another watch's look) holds it: look after it is done.
        queue.later("watch", settings.PCM_WATCH_SECONDS, instance_id, request_id)
        return
    peers, until = [], None
    try:
        provider = provider_for(instance.cloud)
        if provider.gets_many_in_one_call:  # else each node is one more call: its own watch
            peers, until = _claim_peers(instance)
        nodes = provider.get_many(
            [instance.provider_id, *(provider_id for _, provider_id in peers)]
        )
    except ProviderError as exc:
        logger.info("Instance %s: watch failed (%s)", instance_id, exc.message)
    else:
        instance = apply_node(instance.pk, nodes[instance.provider_id], enqueue_sync=False)
        for pk, provider_id in peers:
            node = nodes.get(provider_id)
            # Still building: nothing to record. Vanished: its own watch says so.
            if node is not None and node.status != Status.BUILDING:
                apply_node(pk, node, enqueue_sync=False)
    finally:
        if peers:
            Instance.objects.filter(pk__in=[pk for pk, _ in peers], busy_until=until).update(
                busy_until=None
            )
    if instance.status == Status.DELETED:
        with transaction.atomic():
            _finish_event(instance, "delete", request_id=request_id)
    if instance.status in STABLE:
        _after_step(instance, request_id)
        return
    age = (timezone.now() - instance.status_since).total_seconds()
    if age > settings.PCM_BUILD_TIMEOUT:
        action = "create" if instance.status == Status.BUILDING else "watch"
        _fail(instance_id, action, f"still {instance.status} after {int(age)} s", request_id)
        return
    queue.later("watch", settings.PCM_WATCH_SECONDS, instance_id, request_id)


def inventory_sync(instance_id: str, request_id: str = "") -> None:
    """Tell the Inventory what exists: the system record, or its removal. On failure the
    reconciler tries again later; nothing else waits for it."""
    instance = (
        Instance.objects.select_related("cloud", "role", "environment", "size", "image")
        .filter(pk=instance_id)
        .first()
    )
    if instance is None or instance.inventory_synced:
        return
    try:
        inventory = inventory_for(instance.cloud)
        if instance.status == Status.DELETED:
            inventory.unregister(cloud=instance.cloud.name, name=instance.name)
        elif instance.provider_id:
            inventory.register(
                SystemRecord(
                    cloud=instance.cloud.name,
                    name=instance.name,
                    pcm_id=str(instance.pk),
                    role=instance.role.name if instance.role else "",
                    environment=instance.environment.name,
                    size=instance.size.name,
                    image=instance.image.name,
                    provider_id=instance.provider_id,
                    status=instance.status,
                    ips=tuple(instance.public_ips + instance.private_ips),
                )
            )
        else:
            return
    except InventoryError as exc:
        logger.warning("Instance %s: Inventory update failed: %s", instance_id, exc.message)
        return
    Instance.objects.filter(pk=instance.pk, status=instance.status).update(inventory_synced=True)


# -- reconciliation ----------------------------------------------------------------------


def reconcile_cloud(cloud: Cloud) -> dict[str, int]:
    """One provider list call: statuses updated, vanished nodes deleted, lost creates
    re-enqueued, stuck builds failed, tagged nodes without a row recorded as orphans."""
    nodes = provider_for(cloud).list()
    by_id = {node.provider_id: node for node in nodes}
    by_tag = {node.pcm_id: node for node in nodes if node.pcm_id}
    now = timezone.now()
    grace = timedelta(seconds=settings.PCM_PENDING_DEADLINE)
    counts = {"updated": 0, "deleted": 0, "requeued": 0, "failed": 0, "orphans": 0}
    rows = Instance.objects.filter(cloud=cloud).exclude(status=Status.DELETED)
    known_ids = set(Instance.objects.filter(cloud=cloud).values_list("pk", flat=True))
    for instance in rows.iterator():
        if instance.busy_until and instance.busy_until > now:
            continue  # a worker is on it
        old = now - instance.status_since > grace
        if instance.status in ACTION_STATES and _action_pending(instance):
            if old:  # the action's task was lost
                queue.enqueue("act", instance.pk, "", ACTION_STATES[instance.status])
                counts["requeued"] += 1
            continue
        node = by_id.get(instance.provider_id) or by_tag.get(str(instance.pk))
        if node is not None:
            changed = (node.status, node.raw_status, node.provider_id) != (
                instance.status,
                instance.raw_status,
                instance.provider_id,
            )
            if changed and instance.status != Status.DELETING:
                if apply_node(instance.pk, node).status == Status.DELETED:
                    _reconciled_away(instance, now)
                counts["updated"] += 1
            elif instance.status == Status.DELETING and old:
                queue.enqueue("delete", instance.pk)
        elif instance.provider_id and old:
            apply_node(instance.pk, None)
            _reconciled_away(instance, now)
            counts["deleted"] += 1
        elif instance.status == Status.PENDING and old:
            queue.enqueue("provision", instance.pk)
            counts["requeued"] += 1
        elif instance.status == Status.DELETING and old:
            queue.enqueue("delete", instance.pk)
        elif instance.status == Status.BUILDING and (
            (now - instance.status_since).total_seconds() > settings.PCM_BUILD_TIMEOUT
        ):
            _fail(str(instance.pk), "create", "the build timed out")
            counts["failed"] += 1
        elif instance.status == Status.BUILDING and not instance.provider_id and old:
            queue.enqueue("provision", instance.pk)  # a worker died during the create
            counts["requeued"] += 1
    for instance_id in (
        Instance.objects.filter(cloud=cloud, inventory_synced=False)
        .exclude(status__in=TRANSITIONAL | {Status.PENDING, Status.DELETING})
        .values_list("pk", flat=True)
    ):
        queue.enqueue("inventory_sync", instance_id)
    orphans = [
        node
        for node in nodes
        if node.pcm_id and node.status != Status.DELETED and not _is_known(node.pcm_id, known_ids)
    ]
    for node in orphans:
        Orphan.objects.update_or_create(
            cloud=cloud,
            provider_id=node.provider_id,
            defaults={
                "name": node.name,
                "pcm_id": node.pcm_id,
                "raw_status": node.raw_status,
                "last_seen": now,
            },
        )
    Orphan.objects.filter(cloud=cloud).exclude(
        provider_id__in=[node.provider_id for node in orphans]
    ).delete()
    counts["orphans"] = len(orphans)
    return counts


def _reconciled_away(instance: Instance, now) -> None:
    InstanceEvent.objects.create(
        instance=instance,
        actor="pcm",
        action="reconcile",
        started_at=now,
        finished_at=now,
        outcome=Outcome.SUCCEEDED,
        detail="the node is gone at the provider",
    )


def _is_known(pcm_id: str, known_ids: set) -> bool:
    try:
        return uuid.UUID(pcm_id) in known_ids
    except ValueError:
        return False
