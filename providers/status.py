"""PCM's abstract statuses: the same words on every cloud (SPEC.md, "Statuses").

Each plugin maps its provider's own states (not libcloud's NodeState, which loses some)
into these, and keeps the provider's word alongside as the raw status.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"  # accepted by PCM, not yet at the provider
    BUILDING = "building"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    STARTING = "starting"
    REBOOTING = "rebooting"
    DELETING = "deleting"
    DELETED = "deleted"
    ERROR = "error"
    UNKNOWN = "unknown"
