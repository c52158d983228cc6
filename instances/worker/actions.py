"""A client's reboot, stop, start and delete, at the provider.

Just after a create or a start the cloud may answer NotFound for a node it has made (it is
eventually consistent): the action is tried again a little later, within the grace window,
instead of failing. A cloud that refuses an action for the node's present state (Nova's 409
while a task runs on the server) is asked again once that task has ended; where the node
is already what the action would make it, the action is done; otherwise it failed, and the
instance shows what the cloud says it is (never `error` for a refused action).

A delete is over when the cloud reports the node terminated, or no longer finds a node whose
delete it accepted; a delete the cloud answers NotFound outside the window leaves the row
`deleting` for reconciliation to settle on two listings.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clouds.services import provider_for
from instances import queue
from instances.choices import STABLE
from instances.models import Instance
from instances.worker.record import after_step, apply_node, mark_deleted
from instances.worker.rows import (
    ACTION_STATUS,
    BUSY,
    annotate,
    claim,
    fail,
    finish_event,
    in_grace,
    logger,
    release,
)
from providers.base import Node, NotFoundAtProvider, ProviderError, StateConflict
from providers.status import Status

ACTION_CALLS = {"reboot": "reboot", "stop": "stop", "start": "start"}
# What each action leaves the node as: a refused action whose node is that already is done.
ACTION_RESULT = {"stop": Status.STOPPED, "start": Status.RUNNING}
# What each action starts from: a refused action whose node is that again (the task that
# made the cloud refuse it has ended since) is asked for again.
ACTION_FROM = {"reboot": Status.RUNNING, "stop": Status.RUNNING, "start": Status.STOPPED}
# The node is in the middle of a task of its own (the cloud's, or someone else's action).
BUSY_AT_THE_CLOUD = frozenset(
    {Status.BUILDING, Status.REBOOTING, Status.STOPPING, Status.STARTING, Status.DELETING}
)


def act(instance_id: str, request_id: str, action: str) -> None:
    claimed = claim(instance_id, {ACTION_STATUS[action]})
    if claimed is None:
        return
    if claimed == BUSY:
        queue.later("act", settings.PCM_WATCH_SECONDS, instance_id, request_id, action)
        return
    instance: Instance = claimed
    try:
        provider = provider_for(instance.cloud)
        try:
            getattr(provider, ACTION_CALLS[action])(instance.provider_id)
        except NotFoundAtProvider:
            if not in_grace(instance):
                raise
            release(instance)  # not visible yet: the same action in a moment
            queue.later("act", settings.PCM_WATCH_SECONDS * 2, instance_id, request_id, action)
            return
        except StateConflict as exc:
            _refused(instance, action, exc, request_id)
            return
        if action == "start":  # a started node may be hidden for a while, like a new one
            Instance.objects.filter(pk=instance.pk).update(acted_at=timezone.now())
        asked_at = timezone.now()
        node = provider.get(instance.provider_id)
    except ProviderError as exc:
        _action_failed(instance, action, exc, request_id)
        return
    _done(instance, action, node, asked_at, request_id)


def _done(
    instance: Instance,
    action: str,
    node: Node | None,
    asked_at,
    request_id: str,
    detail: str = "",
) -> None:
    """The action succeeded: its event says so, and the row takes the node as the cloud
    showed it when asked at `asked_at`."""
    with transaction.atomic():
        finish_event(instance, action, request_id=request_id, detail=detail)
    if node is None:  # not found just now: the watch looks again
        release(instance)
        queue.later("watch", settings.PCM_WATCH_SECONDS, instance.pk, request_id)
        return
    instance = apply_node(
        instance.pk,
        node,
        worker=True,
        enqueue_sync=False,
        request_id=request_id,
        observed_at=asked_at,
    )
    after_step(instance, request_id)


def _refused(instance: Instance, action: str, exc: StateConflict, request_id: str) -> None:
    """The cloud refused the action for the node's present state: ask again once the
    node's own task has ended (within the build timeout); done if the node is what the
    action would make it; else failed, the node taken as it is."""
    try:
        asked_at = timezone.now()
        node = provider_for(instance.cloud).get(instance.provider_id)
    except ProviderError:
        node = None
    waited = (timezone.now() - instance.status_since).total_seconds()
    if node is not None and node.status == ACTION_RESULT.get(action):
        _done(instance, action, node, asked_at, request_id, f"the node was {node.status}")
    elif (
        node is not None
        and (node.status in BUSY_AT_THE_CLOUD or node.status == ACTION_FROM[action])
        and waited < settings.PCM_BUILD_TIMEOUT
    ):
        release(instance)
        annotate(instance, action, f"Waited for the cloud: {exc.message}")
        queue.later("act", settings.PCM_WATCH_SECONDS * 2, instance.pk, request_id, action)
        logger.info("Instance %s: %s postponed: %s", instance.pk, action, exc.message)
    else:
        _back_to(instance, node, action, exc, request_id)


def _action_failed(instance: Instance, action: str, exc: ProviderError, request_id: str) -> None:
    """The action failed: the instance goes back to what the provider says it is."""
    try:
        node = provider_for(instance.cloud).get(instance.provider_id)
    except ProviderError:
        node = None
    _back_to(instance, node, action, exc, request_id)


def _back_to(
    instance: Instance, node: Node | None, action: str, exc: ProviderError, request_id: str
) -> None:
    """The failed action's instance takes the node's status (unknown when there is none
    to be had), with the reason the action failed."""
    with transaction.atomic():
        locked = Instance.objects.select_for_update().get(pk=instance.pk)
        if node is not None:
            locked.set_status(node.status, node.raw_status)
        else:
            locked.set_status(Status.UNKNOWN)
        locked.last_error = exc.message
        locked.busy_until = None
        locked.save()
        finish_event(locked, action, exc.message, request_id)
    if locked.status not in STABLE:
        queue.later("watch", settings.PCM_WATCH_SECONDS, locked.pk, request_id)


def delete(instance_id: str, request_id: str = "") -> None:
    claimed = claim(instance_id, {Status.DELETING})
    if claimed is None:
        return
    if claimed == BUSY:
        queue.later("delete", settings.PCM_WATCH_SECONDS, instance_id, request_id)
        return
    instance: Instance = claimed
    try:
        provider = provider_for(instance.cloud)
        provider_id = instance.provider_id
        if not provider_id and instance.node_may_exist:
            # A create may have reached the provider before its answer was lost.
            found = provider.find(str(instance.pk))
            if found is None and in_grace(instance):
                _again(instance, request_id, "the cloud does not list the node yet")
                return
            provider_id = found.provider_id if found else ""
        if not provider_id:
            mark_deleted(instance.pk, "no node was made", request_id)
            return
        if provider_id != instance.provider_id:  # found by its tag: recorded before the call
            Instance.objects.filter(pk=instance.pk).update(provider_id=provider_id)
        try:
            provider.destroy(provider_id)
        except NotFoundAtProvider as exc:
            if in_grace(instance):
                _again(instance, request_id, "the cloud does not find the node yet")
            else:  # gone already, or not visible: listings decide (reconciliation)
                release(instance, last_error=exc.message)
            return
        asked_at = timezone.now()
        node = provider.get(provider_id)
    except ProviderError as exc:
        if exc.transient or isinstance(exc, StateConflict):  # the node's task may end
            _again(instance, request_id, exc.message)
        else:
            fail(instance_id, "delete", exc.message, request_id)
        return
    if node is None:  # the cloud accepted the delete, and the node is gone already
        instance = mark_deleted(instance.pk, "deleted", request_id)
    else:
        instance = apply_node(
            instance.pk,
            node,
            worker=True,
            enqueue_sync=False,
            request_id=request_id,
            observed_at=asked_at,
        )
    after_step(instance, request_id)


def _again(instance: Instance, request_id: str, why: str) -> None:
    """Try the delete again in a while, until the build timeout says it has taken too long."""
    age = (timezone.now() - instance.status_since).total_seconds()
    if age > settings.PCM_BUILD_TIMEOUT:
        fail(str(instance.pk), "delete", f"still deleting after {int(age)} s: {why}")
        return
    release(instance, last_error=why)
    queue.later("delete", settings.PCM_WATCH_SECONDS * 4, instance.pk, request_id)
    logger.info("Instance %s: delete postponed: %s", instance.pk, why)
