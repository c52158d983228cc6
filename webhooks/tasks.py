"""django-q2 tasks: a delivery's attempt, and the sweep that retries due deliveries."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from webhooks import delivery as http
from webhooks.models import Delivery, DeliveryStatus
from webhooks.services import queue_deliveries

# While an attempt runs, the sweep leaves its delivery alone (longer than any attempt).
IN_FLIGHT = timedelta(seconds=4 * http.TIMEOUT)


def deliver(delivery_id: int) -> str:
    """Make one attempt at a due, pending delivery; on failure set when to try again."""
    now = timezone.now()
    due = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    found = due.select_related("subscription", "event").first()
    if found is None:
        return "not due"
    if not found.subscription.enabled:
        due.update(status=DeliveryStatus.FAILED, last_error="The subscription is disabled")
        return "disabled"
    # Compare and set: of two tasks for the same delivery, one makes the attempt.
    claimed = due.filter(attempts=found.attempts).update(
        attempts=F("attempts") + 1, next_attempt_at=now + IN_FLIGHT
    )
    if not claimed:
        return "taken"
    subscription, event = found.subscription, found.event
    outcome = http.post(
        url=subscription.url,
        secret=subscription.secret,
        payload=event.payload,
        policy=subscription.outbound_policy,
    )
    attempts = found.attempts + 1
    fields = {
        "response_status": outcome.status,
        "duration_ms": outcome.duration_ms,
        "last_error": outcome.error,
    }
    finished = timezone.now()
    if outcome.ok:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=finished)
    elif finished - event.created_at >= http.RETRY_FOR:
        fields.update(status=DeliveryStatus.FAILED)
    else:
        fields.update(next_attempt_at=finished + http.backoff(attempts))
    Delivery.objects.filter(pk=delivery_id).update(**fields)
    return fields.get("status", f"retry after attempt {attempts}")


def deliver_due() -> int:
    """Queue the pending deliveries whose time has come (every minute: retries, and any
    delivery whose first task was lost)."""
    due = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    ids = list(due[:1000])
    queue_deliveries(ids)
    return len(ids)
