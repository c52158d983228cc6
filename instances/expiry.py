"""Leases ending: a warning some time before (PCM_LEASE_WARNING), then the delete.

Run by a django-q2 schedule every minute (instances.tasks.expire_leases). Any number of
clusters may run it at once: each instance is claimed by a conditional UPDATE in the
transaction that deletes it, so one run deletes it and the others find nothing to do, and
each warning is claimed the same way (once per instance and expiry).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from instances.models import Instance, InstanceEvent
from instances.services import instance_delete
from instances.signals import lease_expired, lease_expiring
from pcm.errors import PCMError
from providers.status import Status

logger = logging.getLogger(__name__)

# The events' actor: the lease did it, not a user.
LEASE_ACTOR = "lease"
ENDED = (Status.DELETED, Status.DELETING)


def _ongoing():
    return Instance.objects.exclude(status__in=ENDED)


def warn_expiring(now: datetime | None = None) -> int:
    """An 'expiring' event for each instance whose lease ends within PCM_LEASE_WARNING and
    that has had none for this expiry; how many."""
    now = now or timezone.now()
    horizon = now + timedelta(seconds=settings.PCM_LEASE_WARNING)
    due = (
        _ongoing()
        .filter(expires_at__gt=now, expires_at__lte=horizon)
        .exclude(warned_for=F("expires_at"))
        .values_list("pk", "expires_at")
    )
    warned = 0
    for pk, expires_at in list(due):
        with transaction.atomic():
            claimed = (
                Instance.objects.filter(pk=pk, expires_at=expires_at)
                .exclude(warned_for=expires_at)
                .update(warned_for=expires_at)
            )
            if claimed:
                event = InstanceEvent.objects.create(
                    instance_id=pk,
                    actor=LEASE_ACTOR,
                    action="expiring",
                    detail=f"the lease ends at {expires_at.isoformat()}: extend it to keep "
                    "the instance",
                )
                event.finish()
                instance = Instance.objects.select_related("cloud").get(pk=pk)
                lease_expiring.send(sender=Instance, instance=instance)
                warned += 1
    return warned


def expire(pk, now: datetime) -> bool:
    """Delete the instance if its lease has ended and no one deletes it yet, through the
    services a user's delete takes; whether this call did."""
    with transaction.atomic():
        # The claim: it waits for a concurrent run's transaction, then no longer matches
        # the instance that run made deleting.
        claimed = _ongoing().filter(pk=pk, expires_at__lte=now).update(updated_at=timezone.now())
        if not claimed:
            return False
        instance = Instance.objects.select_related("cloud").get(pk=pk)
        deleted = instance_delete(
            instance=instance,
            user=None,
            actor=LEASE_ACTOR,
            detail=f"the lease ended at {instance.expires_at.isoformat()}",
        )
        lease_expired.send(sender=Instance, instance=deleted)
    return True


def expire_leases(now: datetime | None = None) -> int:
    """Delete every instance whose lease has ended; how many this run deleted."""
    now = now or timezone.now()
    due = list(_ongoing().filter(expires_at__lte=now).values_list("pk", flat=True))
    expired = 0
    for pk in due:
        try:
            expired += expire(pk, now)
        except PCMError as exc:  # one instance that cannot be deleted stops no other
            logger.warning("The lease of instance %s ended but it was not deleted: %s", pk, exc)
    return expired
