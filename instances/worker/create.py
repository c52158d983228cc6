"""Provisioning: one create at the provider per attempt, and never a node forgotten.

A create is counted and marked "a node may exist" in the row before it is sent, so that a
crash, a timeout or a reset leaves a row that knows it. The next run first looks for a
node tagged with the instance's id and adopts it; where the cloud does not make a repeated
create a no-op itself (no client token: OpenStack, GCE, Azure) it keeps looking for as long
as the cloud may take to list a new node (PCM_VISIBILITY_GRACE) before it creates again.
Giving up looks too, and an instance whose node may exist keeps its name and counts in
quotas until reconciliation has seen the cloud without it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clouds import crypto
from clouds.breaker import CircuitOpen
from clouds.services import provider_for
from instances import queue
from instances.faults import crash_point
from instances.models import Instance
from instances.worker.inventory import release_name
from instances.worker.record import after_step, record_created
from instances.worker.rows import BUSY, claim, finish_event, in_grace, logger, release
from instances.worker.watch import watch
from providers.base import CreateOptions, Node, Provider, ProviderError
from providers.status import Status

MAY_EXIST = (
    "; a node may exist at the cloud: the instance keeps its name and quota until a "
    "listing shows the cloud without it"
)


def provision(instance_id: str, request_id: str = "") -> None:
    claimed = claim(instance_id, {Status.PENDING, Status.BUILDING})
    if claimed is None:
        return
    if claimed == BUSY:
        queue.later("provision", settings.PCM_WATCH_SECONDS, instance_id, request_id)
        return
    instance: Instance = claimed
    if instance.provider_id:  # created already (a re-run after a crash): only waiting is left
        release(instance)
        watch(instance_id, request_id)
        return
    try:
        provider = provider_for(instance.cloud)
    except ProviderError as exc:
        give_up(instance, exc.message, request_id)
        return
    age = (timezone.now() - instance.status_since).total_seconds()
    if instance.status == Status.BUILDING and age > settings.PCM_BUILD_TIMEOUT:
        # Refusals (an open breaker) are not counted as attempts: time ends them.
        give_up(instance, f"no node after {int(age)} s", request_id, provider=provider)
        return
    if instance.node_may_exist:
        # An earlier create may have reached the provider: adopt what it made.
        try:
            node = provider.find(str(instance.pk))
        except CircuitOpen as exc:  # not asked at all: after the breaker's cooldown
            _look_again(instance, request_id, exc.message, settings.PCM_BREAKER_COOLDOWN)
            return
        except ProviderError as exc:  # a look that fails counts as an attempt: it ends
            Instance.objects.filter(pk=instance.pk).update(attempts=F("attempts") + 1)
            instance.attempts += 1
            why = f"cannot look for the node: {exc.message}"
            if instance.attempts >= settings.PCM_MAX_ATTEMPTS:
                give_up(instance, f"gave up after {instance.attempts} attempts ({why})", request_id)
            else:
                _look_again(instance, request_id, why)
            return
        if node is not None:
            after_step(record_created(instance_id, node, request_id, adopted=True), request_id)
            return
        spent = instance.attempts >= settings.PCM_MAX_ATTEMPTS
        if in_grace(instance) and (spent or not provider.idempotent_create):
            # Not sent again (no client token, or no attempt left) before the cloud has had
            # the whole window to list what the last create made.
            _look_again(instance, request_id, "the cloud does not list the node yet")
            return
    if instance.attempts >= settings.PCM_MAX_ATTEMPTS:
        last = f": {instance.last_error}" if instance.last_error else ""
        give_up(instance, f"gave up after {instance.attempts} attempts{last}", request_id)
        return
    if provider.spread_waits_for_peers and age < settings.PCM_BUILD_TIMEOUT:
        waiting_for = _earlier_peers_building(instance)
        if waiting_for:
            why = f"waiting for {waiting_for} to be placed first"
            _look_again(instance, request_id, why, settings.PCM_WATCH_SECONDS)
            return
    _create(instance, provider, request_id)


def _look_again(instance: Instance, request_id: str, why: str, seconds: float = 0) -> None:
    """The node an earlier create may have made is not found (yet): look again later."""
    release(instance)
    seconds = seconds or settings.PCM_WATCH_SECONDS * 4
    queue.later("provision", seconds, instance.pk, request_id)
    logger.info("Instance %s: %s; looking again", instance.pk, why)


def _create(instance: Instance, provider: Provider, request_id: str) -> None:
    may_have_existed = instance.node_may_exist
    now = timezone.now()
    # Counted and marked before the call, and committed: a crash from here on leaves a row
    # that knows a node may exist.
    Instance.objects.filter(pk=instance.pk).update(
        attempts=F("attempts") + 1, node_may_exist=True, acted_at=now
    )
    if Instance.objects.filter(pk=instance.pk, status=Status.PENDING).update(
        status=Status.BUILDING, status_since=now
    ):
        instance.status, instance.status_since = Status.BUILDING, now
    # The lease is ours: nothing else counts attempts. (No refresh_from_db: it would drop
    # the cloud and role already loaded, two more queries.)
    instance.attempts += 1
    instance.node_may_exist, instance.acted_at = True, now
    crash_point("before_provider_call", instance.attempts)
    try:
        options = _options(instance)
    except crypto.DecryptionError as exc:  # PCM_ENCRYPTION_KEYS lost the key: not sent
        Instance.objects.filter(pk=instance.pk).update(node_may_exist=may_have_existed)
        give_up(instance, f"the user data cannot be decrypted: {exc}", request_id)
        return
    try:
        node = provider.create(
            instance.name,
            instance.provider_size_id,
            instance.provider_image_id,
            options,
        )
    except ProviderError as exc:
        if not exc.maybe_done:  # refused: this attempt made nothing
            instance.node_may_exist = may_have_existed
            Instance.objects.filter(pk=instance.pk).update(node_may_exist=may_have_existed)
        else:
            # The answer is lost: the grace window in which the cloud may not list the
            # node yet runs from now, however long the call took (a timeout longer than
            # the window would otherwise leave no time to look before a create again).
            Instance.objects.filter(pk=instance.pk).update(acted_at=timezone.now())
        if isinstance(exc, CircuitOpen):  # refused here, before any call: not an attempt
            Instance.objects.filter(pk=instance.pk).update(attempts=F("attempts") - 1)
            _look_again(instance, request_id, exc.message, settings.PCM_BREAKER_COOLDOWN)
            return
        if exc.transient:
            # Whatever the attempt count, the next run looks for the node before anything
            # else: a timeout on the last attempt is not the end.
            release(instance, last_error=exc.message)
            delay = settings.PCM_WATCH_SECONDS * 2**instance.attempts
            queue.later("provision", delay, instance.pk, request_id)
            logger.info("Instance %s: create failed (%s); retrying", instance.pk, exc.message)
        else:
            give_up(instance, exc.message, request_id, provider=provider)
        return
    crash_point("after_provider_call", instance.attempts)
    instance = record_created(str(instance.pk), node, request_id)
    crash_point("after_commit", instance.attempts)
    # A new node is seldom running yet: it is looked at again in a while, together with
    # the cloud's other new nodes (watch).
    after_step(instance, request_id)


def _options(instance: Instance) -> CreateOptions:
    spread = bool(instance.role and instance.role.spread_over_hosts)
    return CreateOptions(
        pcm_id=str(instance.pk),
        extra={**instance.extra, **instance.secret_extra},
        different_host=_different_hosts(instance),
        placement_group=instance.cloud.placement_group if spread else "",
        subnet=instance.provider_subnet_id,
        user_data=instance.user_data,
        tags=instance.tags,
    )


def _different_hosts(instance: Instance) -> tuple[str, ...]:
    """Anti-affinity: the provider ids of the role's live instances in this cloud and
    environment, when the role spreads over hosts."""
    others = _spread_peers(instance).exclude(provider_id="").values_list("provider_id", flat=True)
    return tuple(sorted(others))


def _spread_peers(instance: Instance):
    """The live instances of the instance's role in its cloud and environment, when the
    role spreads over hosts (none otherwise)."""
    if not (instance.role and instance.role.spread_over_hosts):
        return Instance.objects.none()
    return (
        Instance.objects.live()
        .filter(cloud=instance.cloud, role=instance.role, environment=instance.environment)
        .exclude(pk=instance.pk)
    )


def _earlier_peers_building(instance: Instance) -> str:
    """The names of the spread peers accepted before this instance and not yet built
    ("" when there are none): the cloud places them before this one is asked for."""
    earlier = _spread_peers(instance).filter(
        status__in=(Status.PENDING, Status.BUILDING), created_at__lt=instance.created_at
    )
    return ", ".join(sorted(earlier.values_list("name", flat=True)))


def give_up(
    instance: Instance, error: str, request_id: str, *, provider: Provider | None = None
) -> None:
    """The create ends in `error`. With `provider`, PCM first looks for a node an attempt
    may have made and adopts it instead. The name is given back only when no node can
    carry it."""
    instance.refresh_from_db()
    if instance.node_may_exist and provider is not None:
        node: Node | None = None
        try:
            node = provider.find(str(instance.pk))
        except ProviderError as exc:
            logger.info("Instance %s: cannot look for the node (%s)", instance.pk, exc.message)
        if node is not None:
            after_step(record_created(str(instance.pk), node, request_id, adopted=True), request_id)
            return
    with transaction.atomic():
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        locked.set_status(Status.ERROR)
        locked.last_error = error + (MAY_EXIST if locked.node_may_exist else "")
        locked.busy_until = None
        locked.save()
        finish_event(locked, "create", locked.last_error, request_id)
    logger.warning("Instance %s: create failed: %s", instance.pk, locked.last_error)
    if not locked.node_may_exist:
        release_name(locked)
