"""What a client's request does to instances: validate, reserve, record, enqueue.

Views call these; they raise PCM's errors and never build responses. The provider work
itself runs later, in django-q2 tasks (instances/worker/).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from clouds.access import granted_clouds, sees_every_cloud
from clouds.models import AbstractSize, Cloud
from clouds.services import inventory_for, provider_for
from instances import queue
from instances.choices import ACTIONS
from instances.models import Instance, InstanceEvent
from instances.plan import plan_create
from instances.tags import clean_tags
from instances.usage import cloud_usage
from instances.worker import apply_node
from pcm.errors import BadRequest, Conflict, LimitExceeded, NotFound, Unavailable
from providers.base import ProviderError, Unsupported
from providers.inventory.base import InventoryError
from providers.status import Status

logger = logging.getLogger(__name__)

# What every cloud takes as an instance (host) name.
INSTANCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}")


RELATED = ("cloud", "role", "environment", "size", "image", "subnet", "created_by")


def visible_instances(user, cloud_name: str):
    """The instances of the cloud called `cloud_name` if the user may see that cloud (none
    otherwise), with their shown relations: the access check is in the query itself, no
    subquery for a user who sees every cloud."""
    instances = Instance.objects.filter(cloud__name=cloud_name)
    if not sees_every_cloud(user):
        instances = instances.filter(cloud__in=granted_clouds(user))
    return instances.select_related(*RELATED)


def instance_by_id(
    *, user, cloud_name: str, key: str, only: tuple[str, ...] = ()
) -> Instance | None:
    """The instance with PCM id `key` in the cloud called `cloud_name` if the user may see
    that cloud, in one query; None for anything else (a name, another cloud: ask
    instance_get). `only`: the columns to load (the others load on first use).

    The hot read of the API (docs/performance.md): get() rather than first(), which would
    add an ORDER BY for one row.
    """
    try:
        pk = uuid.UUID(key)
    except ValueError:
        return None
    found = visible_instances(user, cloud_name).filter(pk=pk)
    if only:
        found = found.only(*only)
    try:
        return found.get()
    except Instance.DoesNotExist:
        return None


def instance_get(*, cloud: Cloud, key: str) -> Instance:
    """An instance of the cloud by PCM id or by name (a live one before deleted ones)."""
    instances = Instance.objects.filter(cloud=cloud).select_related(*RELATED)
    try:
        return instances.get(pk=uuid.UUID(key))
    except (ValueError, Instance.DoesNotExist):
        pass
    found = instances.filter(name=key).order_by("-created_at")
    instance = found.live().first() or found.first()
    if instance is None:
        raise NotFound(f"Instance {key} does not exist in cloud {cloud.name}")
    return instance


# -- create ------------------------------------------------------------------------------


def check_limits(cloud: Cloud, size: AbstractSize) -> None:
    """507 when the size is above the cloud's largest instance."""
    if not cloud.size_within_limits(size):
        raise LimitExceeded(
            f"Requested instance of size {size.name} exceeds limits for cloud {cloud.name}",
            details={
                "requested": {"vcpus": size.vcpus, "ram_mb": size.ram_mb, "disk_gb": size.disk_gb},
                "limits": cloud.limits,
            },
        )


def check_quotas(cloud: Cloud, size: AbstractSize) -> None:
    """507 when one more instance of this size would exceed a quota of the cloud."""
    usage = cloud_usage(cloud)
    wanted = {"instances": 1, "vcpus": size.vcpus, "ram_mb": size.ram_mb}
    for quota, limit in cloud.quotas.items():
        if limit is not None and usage[quota] + wanted[quota] > limit:
            raise LimitExceeded(
                f"Creating a {size.name} instance would exceed the {quota} quota of cloud "
                f"{cloud.name}: {usage[quota]} of {limit} in use, {wanted[quota]} requested",
                details={"quota": quota, "usage": usage, "limit": limit, "requested": wanted},
            )


def _refuse_unusable(cloud: Cloud) -> None:
    if not cloud.enabled:
        raise Unavailable(f"Cloud {cloud.name} is disabled")
    recent = timezone.now() - timedelta(seconds=settings.PCM_DOWN_FOR_SECONDS)
    if cloud.last_check_ok is False and cloud.last_check_at and cloud.last_check_at > recent:
        raise Unavailable(
            f"Cloud {cloud.name} cannot be reached (last check: {cloud.last_check_error})"
        )
    if cloud.breaker_open_until and cloud.breaker_open_until > timezone.now():
        raise Unavailable(
            f"Cloud {cloud.name} keeps failing: new work is refused until "
            f"{cloud.breaker_open_until:%H:%M:%S} UTC (circuit breaker open)"
        )


def instance_create(
    *,
    cloud: Cloud,
    user,
    data: dict[str, Any],
    request_id: str = "",
    on_created: Callable[[Instance], None] | None = None,
) -> Instance:
    """Check, reserve a name, record the instance and enqueue its provisioning.

    The instance, its first event, the task that provisions it (django-q2's ORM broker
    writes its queue entry in the same database) and what `on_created` writes (the
    idempotency record) commit in one transaction, or none of them does and the name is
    given back. A committed instance's name is never released here.
    """
    _refuse_unusable(cloud)
    plan = plan_create(cloud=cloud, data=data)
    check_limits(cloud, plan.size)
    pcm_id = uuid.uuid4()
    try:
        inventory = inventory_for(cloud)
        # Before any lock: an HTTP Inventory may take its time.
        name = inventory.reserve(
            cloud=cloud.name,
            role=plan.role.name if plan.role else "",
            environment=plan.environment.name,
            pcm_id=str(pcm_id),
        )
    except InventoryError as exc:
        raise Unavailable(f"The Inventory cannot name the instance: {exc.message}") from None
    if not INSTANCE_NAME.fullmatch(name):
        _release(inventory, cloud, name)
        raise Unavailable(
            f"The Inventory gave the name {name[:80]!r}, which clouds refuse: use letters, "
            "digits, '.' and '-' (at most 63, starting with a letter or digit)"
        )
    try:
        with transaction.atomic():
            # The cloud's row lock serializes concurrent quota checks.
            # FOR NO KEY UPDATE where the database has it (PostgreSQL): it does not wait on
            # the KEY SHARE locks that inserting and updating instances take on the cloud's
            # row (their foreign key), which made a deadlock with concurrent actions.
            no_key = connection.features.has_select_for_no_key_update
            locked = Cloud.objects.select_for_update(no_key=no_key).get(pk=cloud.pk)
            check_quotas(locked, plan.size)
            # The task first, so that the row is written once, with its queue entry.
            entry = queue.enqueue("provision", pcm_id, request_id)
            instance = Instance.objects.create(
                id=pcm_id,
                task_entry=entry,
                cloud=cloud,
                name=name,
                role=plan.role,
                environment=plan.environment,
                size=plan.size,
                image=plan.image,
                subnet=plan.subnet,
                provider_size_id=plan.provider_size_id,
                provider_image_id=plan.provider_image_id,
                provider_subnet_id=plan.provider_subnet_id,
                extra=plan.extra,
                ssh_keys=plan.ssh_keys,
                tags=plan.tags,
                secrets_encrypted=Instance.encrypt_secrets(
                    user_data=plan.user_data, extra=plan.secret_extra
                ),
                user_data_sha256=plan.user_data_sha256,
                user_data_size=plan.user_data_size,
                expires_at=timezone.now() + plan.lease if plan.lease else None,
                created_by=user if getattr(user, "pk", None) else None,
            )
            InstanceEvent.objects.create(
                instance=instance, actor=_actor(user), action="create", request_id=request_id
            )
            if on_created:
                on_created(instance)
    except BaseException as exc:
        _release(inventory, cloud, name)
        if isinstance(exc, IntegrityError):
            raise Conflict(f"The Inventory named the instance {name}, a name in use") from None
        if isinstance(exc, DatabaseError):
            logger.exception("The create could not be recorded")
            raise Unavailable("The create could not be recorded; nothing was created") from None
        raise
    return instance


def _release(inventory, cloud: Cloud, name: str) -> None:
    try:
        inventory.release(cloud=cloud.name, name=name)
    except InventoryError as exc:
        logger.warning("Could not release name %s of %s: %s", name, cloud.name, exc.message)


def _actor(user) -> str:
    return getattr(user, "username", "") or "anonymous"


# -- actions -----------------------------------------------------------------------------


def _locked(instance: Instance) -> Instance:
    """The instance's row, locked until the transaction ends, with the rows its answer
    shows (read in the same query, not locked: six lazy queries per answer otherwise)."""
    instances = Instance.objects.select_related(*RELATED).select_for_update(of=("self",))
    return instances.get(pk=instance.pk)


# action -> (statuses it may start from, status while it runs, what to say otherwise)
TRANSITIONS = {
    "reboot": ({Status.RUNNING}, Status.REBOOTING, "only a running instance can be rebooted"),
    "stop": ({Status.RUNNING}, Status.STOPPING, "only a running instance can be stopped"),
    "start": ({Status.STOPPED}, Status.STARTING, "only a stopped instance can be started"),
}


def instance_act(*, instance: Instance, status: str, user, request_id: str = "") -> Instance:
    """PUT status: reboot, stopped or running."""
    if status not in ACTIONS:
        raise BadRequest(f"status {status!r} cannot be set; allowed: {', '.join(ACTIONS)}")
    action = ACTIONS[status]
    if action not in instance.cloud.capabilities:
        raise Conflict(f"{action.capitalize()} is not supported by cloud {instance.cloud.name}")
    allowed, running, why = TRANSITIONS[action]
    with transaction.atomic():
        locked = _locked(instance)
        if locked.status not in allowed:
            raise Conflict(f"Instance {locked.name} is {locked.status}: {why}")
        locked.set_status(running)
        locked.last_error = ""
        locked.save(update_fields=["status", "status_since", "last_error", "updated_at"])
        InstanceEvent.objects.create(
            instance=locked, actor=_actor(user), action=action, request_id=request_id
        )
        queue.drive("act", locked.pk, request_id, action)
    return locked


def instance_delete(
    *, instance: Instance, user, request_id: str = "", actor: str = "", detail: str = ""
) -> Instance:
    """Delete at the provider, in a task. A failed create that no node can carry (not live:
    no provider id, no create that may have made one) is deleted at once: nothing is left
    at the cloud, and it must not count in quotas again while a task looks. `actor` and
    `detail` name who deletes when it is not a user (the lease: instances/expiry.py)."""
    with transaction.atomic():
        locked = _locked(instance)
        if locked.status in (Status.DELETED, Status.DELETING):
            raise Conflict(f"Instance {locked.name} is {locked.status} already")
        nothing_at_the_cloud = not Instance.objects.live().filter(pk=locked.pk).exists()
        locked.set_status(Status.DELETED if nothing_at_the_cloud else Status.DELETING)
        locked.save(update_fields=["status", "status_since", "updated_at"])
        event = InstanceEvent.objects.create(
            instance=locked,
            actor=actor or _actor(user),
            action="delete",
            request_id=request_id,
            detail=detail,
        )
        if nothing_at_the_cloud:
            event.finish()
        else:
            queue.drive("delete", locked.pk, request_id)
    return locked


def instance_set_tags(*, instance: Instance, tags, user, request_id: str = "") -> Instance:
    """PATCH tags: the instance's tags become `tags` (its status is not touched); a cloud
    that keeps tags of its own gets them in a task (instances/worker/tags.py)."""
    tags = clean_tags(tags)
    with transaction.atomic():
        locked = _locked(instance)
        if locked.tags == tags:
            return locked
        if locked.status == Status.DELETED:
            raise Conflict(f"Instance {locked.name} is deleted: its tags stay as they were")
        locked.tags = tags
        locked.save(update_fields=["tags", "updated_at"])
        event = InstanceEvent.objects.create(
            instance=locked, actor=_actor(user), action="tag", request_id=request_id
        )
        if "provider_tags" in locked.cloud.capabilities:
            queue.enqueue("push_tags", locked.pk, request_id)
        else:
            event.detail = "kept by PCM (the cloud has no tags of its own)"
            event.save(update_fields=["detail"])
            event.finish()
    return locked


def instance_set_expiry(
    *, instance: Instance, expires_at, user, request_id: str = "", detail: str = ""
) -> Instance:
    """PATCH expires_at or lease, already checked against the maximum (instances/leases.py):
    the instance expires then (None: never); an event records who moved it."""
    with transaction.atomic():
        locked = _locked(instance)
        if locked.status in (Status.DELETED, Status.DELETING):
            raise Conflict(f"Instance {locked.name} is {locked.status}: its lease is over")
        locked.expires_at = expires_at
        locked.save(update_fields=["expires_at", "updated_at"])
        shown = expires_at.isoformat() if expires_at else "never"
        event = InstanceEvent.objects.create(
            instance=locked,
            actor=_actor(user),
            action="lease",
            request_id=request_id,
            detail=detail or f"expires at {shown}",
        )
        event.finish()
    return locked


# -- live reads --------------------------------------------------------------------------


def _provider_unavailable(cloud: Cloud, exc: ProviderError) -> Unavailable:
    return Unavailable(
        f"Cloud {cloud.name} could not answer: {exc.message}",
        details={"provider": exc.provider_detail},
    )


def instance_refresh(*, instance: Instance, request_id: str = "") -> Instance:
    """The instance as the provider reports it now (?refresh=true), within its timeout. A
    node the cloud does not find is not called deleted on that alone (an eventually
    consistent cloud may not show a new node yet): the record stands, and reconciliation
    decides on two listings. A disabled cloud is not called (503)."""
    if not instance.cloud.enabled:
        raise Unavailable(f"Cloud {instance.cloud.name} is disabled: it is not asked")
    if not instance.provider_id:
        return instance
    asked_at = timezone.now()
    try:
        node = provider_for(instance.cloud).get(instance.provider_id)
    except ProviderError as exc:
        raise _provider_unavailable(instance.cloud, exc) from None
    if node is None:
        return instance
    apply_node(instance.pk, node, request_id=request_id, observed_at=asked_at)
    # As the client is shown it: apply_node holds only the columns it writes.
    return Instance.objects.select_related(*RELATED).get(pk=instance.pk)


def instance_console(*, instance: Instance) -> str:
    if "console_log" not in instance.cloud.capabilities:
        raise Conflict(f"Console log is not supported by cloud {instance.cloud.name}")
    if not instance.provider_id or instance.status in (Status.DELETED, Status.PENDING):
        raise Conflict(f"Instance {instance.name} is {instance.status}: it has no console")
    try:
        return provider_for(instance.cloud).console_log(instance.provider_id)
    except Unsupported as exc:
        raise Conflict(f"{exc.message} ({instance.cloud.name})") from None
    except ProviderError as exc:
        raise _provider_unavailable(instance.cloud, exc) from None
