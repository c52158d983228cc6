"""Signed webhooks: PCM tells other systems what happens to instances and clouds."""

from __future__ import annotations


def emit(event_type: str, instance=None, *, cloud=None):
    """Record an event for every subscription that wants it; its deliveries are sent by
    their own tasks once the current transaction commits (webhooks/services.py). The lease
    code calls it for instance.expiring and instance.expired."""
    from webhooks.services import emit as _emit

    return _emit(event_type, instance, cloud=cloud)
