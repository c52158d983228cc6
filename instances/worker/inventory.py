"""Telling the Inventory what exists: a system record once the node is stable, its removal
once the node is gone, and a reserved name given back when no node can carry it."""

from __future__ import annotations

import logging

from clouds.services import inventory_for
from instances.models import Instance
from instances.worker.rows import by_id
from providers.inventory.base import InventoryError, SystemRecord
from providers.status import Status

logger = logging.getLogger("instances.worker")

# What a system record is made of (and the cloud's Inventory): the columns a sync loads.
RECORD_READS = (
    *("id", "name", "status", "provider_id", "public_ips", "private_ips", "inventory_synced"),
    *("cloud__name", "cloud__inventory", "role__name", "environment__name", "size__name"),
    "image__name",
)


def inventory_sync(instance_id: str, request_id: str = "") -> None:
    """Tell the Inventory what exists: the system record, or its removal. On failure the
    reconciler tries again later; nothing else waits for it."""
    instance = by_id(
        Instance.objects.select_related("cloud", "role", "environment", "size", "image").only(
            *RECORD_READS
        ),
        instance_id,
    )
    if instance is None or instance.inventory_synced:
        return
    try:
        inventory = inventory_for(instance.cloud)
        if instance.status == Status.DELETED:
            inventory.unregister(cloud=instance.cloud.name, name=instance.name)
        elif instance.provider_id:
            inventory.register(_record(instance))
        else:
            return
    except InventoryError as exc:
        logger.warning("Instance %s: Inventory update failed: %s", instance_id, exc.message)
        return
    Instance.objects.filter(pk=instance.pk, status=instance.status).update(inventory_synced=True)


def _record(instance: Instance) -> SystemRecord:
    return SystemRecord(
        cloud=instance.cloud.name,
        name=instance.name,
        pcm_id=str(instance.pk),
        role=instance.role.name if instance.role else "",
        environment=instance.environment.name,
        size=instance.size.name,
        image=instance.image.name,
        provider_id=instance.provider_id,
        status=instance.status,
        ips=tuple(instance.public_ips + instance.private_ips),
    )


def release_name(instance: Instance) -> None:
    """No node carries the instance's name: give it back. Nothing is left to tell the
    Inventory of it afterwards (a failed release is logged; the name stays reserved)."""
    try:
        inventory_for(instance.cloud).release(cloud=instance.cloud.name, name=instance.name)
    except InventoryError as exc:
        logger.warning("Could not release name %s: %s", instance.name, exc.message)
    Instance.objects.filter(pk=instance.pk).update(inventory_synced=True)
