"""Recording events and queueing their deliveries."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from webhooks.events import TYPES
from webhooks.models import Delivery, DeliveryStatus, Event, Subscription

logger = logging.getLogger(__name__)


def _instance_as_shown(instance) -> dict:
    """What GET shows: no credential, user data or sensitive extra (InstanceSerializer).
    Read as a list reads it, in the transaction that saved the instance: the caller's
    object may hold only the columns it wrote."""
    from instances.models import Instance
    from instances.serializers import InstanceSerializer

    row = Instance.objects.values(*InstanceSerializer.READS).get(pk=instance.pk)
    data = InstanceSerializer().to_representation(row)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def emit(event_type: str, instance=None, *, cloud=None) -> Event | None:
    """The event, with a pending delivery for each enabled subscription that wants this
    type and this cloud (None: nobody does). Each delivery is queued after the commit."""
    if event_type not in TYPES:
        raise ValueError(f"unknown event type {event_type!r}; known: {', '.join(TYPES)}")
    # By the cloud's id: an instance's cloud is loaded only when somebody wants the event.
    cloud_id = cloud.pk if cloud is not None else getattr(instance, "cloud_id", None)
    subscriptions = Subscription.objects.filter(enabled=True)
    if cloud_id is not None:
        subscriptions = subscriptions.filter(Q(clouds=None) | Q(clouds=cloud_id)).distinct()
    wanted = [s for s in subscriptions if s.wants(event_type)]
    if not wanted:
        return None
    cloud = cloud or (instance.cloud if instance is not None else None)
    event = Event(type=event_type, cloud=cloud, instance=instance)
    event.payload = {
        "id": str(event.id),
        "type": event_type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "cloud": cloud.name if cloud is not None else None,
        "instance": _instance_as_shown(instance) if instance is not None else None,
    }
    event.save()
    deliveries = Delivery.objects.bulk_create(
        Delivery(subscription=s, event=event, next_attempt_at=event.created_at) for s in wanted
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: queue_deliveries(ids))
    return event


def queue_deliveries(ids: Iterable[int]) -> None:
    """One task per delivery, so that a slow receiver delays no other (and nothing else)."""
    for pk in ids:
        async_task("webhooks.tasks.deliver", pk, task_name=f"deliver {pk}")


def redeliver(deliveries: Iterable[Delivery]) -> int:
    """Send these deliveries again now, whatever became of them (an admin's action)."""
    ids = [d.pk for d in deliveries]
    Delivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: queue_deliveries(ids))
    return len(ids)
