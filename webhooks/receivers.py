"""Where events come from: an instance's status as it is saved, its lease, a cloud's
reachability.

An instance remembers the status it was loaded with; a save that changes it is the
transition (the worker and the services write statuses through save(), on a row they hold
locked), so each transition is one event, in the transaction that records it.
"""

from __future__ import annotations

from django.db.models.signals import post_init, post_save
from django.dispatch import receiver

from clouds.signals import reachability_changed
from instances.models import Instance
from instances.signals import lease_expired, lease_expiring
from providers.status import Status
from webhooks.services import emit

ON_STATUS = {
    Status.STOPPED: "instance.stopped",
    Status.ERROR: "instance.error",
    Status.DELETED: "instance.deleted",
}


def event_type(before: str | None, after: str) -> str | None:
    """The event of a change of status (None: no event is sent for it)."""
    if after == Status.RUNNING:
        return "instance.rebooted" if before == Status.REBOOTING else "instance.running"
    return ON_STATUS.get(after)


@receiver(post_init, sender=Instance)
def remember_status(sender, instance: Instance, **kwargs) -> None:
    # __dict__: a deferred status (only()) must not cost a query per row.
    instance._status_saved = instance.__dict__.get("status")


@receiver(post_save, sender=Instance)
def status_saved(sender, instance: Instance, created: bool, **kwargs) -> None:
    before, after = getattr(instance, "_status_saved", None), instance.__dict__.get("status")
    instance._status_saved = after
    if created:
        emit("instance.created", instance)
    elif after is not None and before is not None and before != after:
        kind = event_type(before, after)
        if kind:
            emit(kind, instance)


@receiver(reachability_changed)
def cloud_reachability(sender, cloud, reachable: bool, **kwargs) -> None:
    emit("cloud.reachable" if reachable else "cloud.unreachable", cloud=cloud)


@receiver(lease_expiring)
def instance_expiring(sender, instance: Instance, **kwargs) -> None:
    emit("instance.expiring", instance)


@receiver(lease_expired)
def instance_expired(sender, instance: Instance, **kwargs) -> None:
    emit("instance.expired", instance)
