"""The instance row as the worker side holds it: a lease taken before any provider call,
events finished with their outcome, and the time rules that make absence take evidence."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from instances.choices import Outcome
from instances.models import Instance, InstanceEvent
from providers.status import Status

logger = logging.getLogger("instances.worker")

BUSY = "busy"
# The transitional status of each client action, and back.
ACTION_STATES = {Status.REBOOTING: "reboot", Status.STOPPING: "stop", Status.STARTING: "start"}
ACTION_STATUS = {action: status for status, action in ACTION_STATES.items()}


def by_id(instances, instance_id) -> Instance | None:
    """The row of `instances` with this id, or None: get(), not first(), which compiles
    and sends an ORDER BY (Instance's default ordering) to find one row by its key."""
    try:
        return instances.get(pk=instance_id)
    except Instance.DoesNotExist:
        return None


def lease() -> timedelta:
    return timedelta(seconds=settings.PCM_LEASE_SECONDS)


def claim(instance_id: str, statuses: set[Status]) -> Instance | str | None:
    """Lock the row and take the lease (committed before any provider call): the instance,
    None when there is nothing to do (another status) or BUSY when another worker holds it."""
    now = timezone.now()
    with transaction.atomic():
        # With its cloud (every claimer calls it next), locking the instance's row alone:
        # a lock on the cloud's row would make every worker of the cloud wait on the others.
        instance = by_id(
            Instance.objects.select_related("cloud").select_for_update(of=("self",)), instance_id
        )
        if instance is None or instance.status not in statuses:
            return None
        if instance.busy_until and instance.busy_until > now:
            return BUSY
        instance.busy_until = now + lease()
        instance.save(update_fields=["busy_until"])
    return instance


def release(instance: Instance, **fields) -> None:
    """Give the lease back, saving `fields` with it."""
    Instance.objects.filter(pk=instance.pk).update(busy_until=None, **fields)


def in_grace(instance: Instance) -> bool:
    """PCM created or started the node a moment ago: a cloud that is eventually consistent
    may not show it yet, so not finding it proves nothing."""
    since = instance.acted_at
    grace = timedelta(seconds=settings.PCM_VISIBILITY_GRACE)
    return since is not None and timezone.now() - since < grace


def finish_event(
    instance: Instance, action: str, error: str = "", request_id: str = "", detail: str = ""
) -> None:
    """Finish the action's open event (or record one, when the request's was lost)."""
    event = (
        InstanceEvent.objects.filter(instance=instance, action=action, outcome=Outcome.RUNNING)
        .order_by("-started_at")
        .first()
    )
    if event is None:
        event = InstanceEvent.objects.create(
            instance=instance, actor="pcm", action=action, request_id=request_id
        )
    if detail:
        event.detail = detail
        event.save(update_fields=["detail"])
    event.finish(error)


def annotate(instance: Instance, action: str, detail: str) -> None:
    """Say on the action's open event what PCM is doing about it (its client sees it)."""
    InstanceEvent.objects.filter(instance=instance, action=action, outcome=Outcome.RUNNING).update(
        detail=detail
    )


def note(instance: Instance, action: str, detail: str, error: str = "") -> None:
    """An event PCM records of what it found or did on its own (reconciliation)."""
    now = timezone.now()
    InstanceEvent.objects.create(
        instance=instance,
        actor="pcm",
        action=action,
        started_at=now,
        finished_at=now,
        outcome=Outcome.FAILED if error else Outcome.SUCCEEDED,
        error=error,
        detail=detail,
    )


def fail(instance_id: str, action: str, error: str, request_id: str = "") -> None:
    """The instance is `error`, with the reason; its node, if it has one, still counts."""
    with transaction.atomic():
        instance = Instance.objects.select_for_update().get(pk=instance_id)
        instance.set_status(Status.ERROR)
        instance.last_error = error
        instance.busy_until = None
        instance.save()
        finish_event(instance, action, error, request_id)
    logger.warning("Instance %s: %s failed: %s", instance_id, action, error)


def action_pending(instance: Instance) -> bool:
    """A client's reboot/stop/start is accepted but its task has not called the provider."""
    action = ACTION_STATES.get(instance.status)
    return (
        bool(action)
        and InstanceEvent.objects.filter(
            instance=instance, action=action, outcome=Outcome.RUNNING
        ).exists()
    )
