"""The event types a subscription may ask for."""

from __future__ import annotations

TYPES = (
    "instance.created",
    "instance.running",
    "instance.stopped",
    "instance.rebooted",
    "instance.error",
    "instance.deleted",
    "instance.expiring",
    "instance.expired",
    "cloud.unreachable",
    "cloud.reachable",
)
