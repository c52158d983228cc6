"""Operations on the configuration that views, the admin and tasks share."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from clouds import crypto
from clouds.breaker import CloudBreaker
from clouds.models import CatalogueItem, Cloud
from clouds.signals import reachability_changed
from pcm.errors import NotFound
from providers import registry
from providers.base import Provider, ProviderError
from providers.inventory.base import Inventory, InventoryError
from providers.inventory.builtin import BuiltinInventory
from providers.inventory.registry import inventories

logger = logging.getLogger(__name__)


def cloud_get(*, name: str) -> Cloud:
    """The cloud called `name`, or the API's 404."""
    try:
        return Cloud.objects.get(name=name)
    except Cloud.DoesNotExist:
        raise NotFound(f"Cloud {name} does not exist") from None


def provider_for(cloud: Cloud) -> Provider:
    """A connection to the cloud through its plugin, behind the cloud's circuit breaker
    (nothing is called yet)."""
    try:
        plugin = registry.get(cloud.provider)
        credentials = cloud.credentials
    except (registry.UnknownProvider, crypto.DecryptionError) as exc:
        raise ProviderError(f"Cloud {cloud.name}: {exc}", transient=False) from None
    missing = _missing_secrets(plugin, credentials)
    if missing:
        raise ProviderError(
            f"Cloud {cloud.name} has no credentials ({missing}): enter them in the admin",
            transient=False,
        )
    return plugin(
        cloud.options,
        credentials,
        guard=CloudBreaker(cloud),
        outbound_policy=_policy(cloud, ProviderError),
    )


def _policy(configured, error: type[Exception]):
    """Where its URLs may be; a stored outbound_allow that no longer reads is an error."""
    try:
        return configured.outbound_policy
    except ValueError as exc:
        raise error(f"{configured.name}: outbound_allow: {exc}", transient=False) from None


def _missing_secrets(plugin, credentials: dict) -> str:
    """The required secrets not given (a cloud made by `pcm_config import` has none)."""
    names = [o.name for o in plugin.secret_options() if o.required and not credentials.get(o.name)]
    return ", ".join(names)


def inventory_for(cloud: Cloud) -> Inventory:
    """The cloud's Inventory backend (the built-in one when none is chosen)."""
    backend = cloud.inventory
    if backend is None:
        return BuiltinInventory({}, {})
    try:
        plugin = inventories.get(backend.plugin)
        credentials = backend.credentials
    except (registry.UnknownProvider, crypto.DecryptionError) as exc:
        raise InventoryError(f"Inventory {backend.name}: {exc}", transient=False) from None
    missing = _missing_secrets(plugin, credentials)
    if missing:
        raise InventoryError(
            f"Inventory {backend.name} has no credentials ({missing}): enter them in the admin",
            transient=False,
        )
    return plugin(backend.options, credentials, outbound_policy=_policy(backend, InventoryError))


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    latency_ms: float | None
    error: str


def cloud_check(*, cloud: Cloud) -> CheckResult:
    """Reach the cloud once (bounded by its timeout) and record the outcome on it."""
    try:
        latency = provider_for(cloud).check()
        result = CheckResult(ok=True, latency_ms=round(latency, 1), error="")
    except ProviderError as exc:
        result = CheckResult(ok=False, latency_ms=None, error=exc.message)
        logger.info("Cloud %s is not reachable: %s", cloud.name, exc.message)
    # update(), not save(): an admin may be editing the cloud's configuration meanwhile.
    outcome = {
        "last_check_at": timezone.now(),
        "last_check_ok": result.ok,
        "last_check_latency_ms": result.latency_ms,
        "last_check_error": result.error,
    }
    row = Cloud.objects.filter(pk=cloud.pk)
    # Compare and set: of concurrent checks that see the same change, one tells of it.
    other = row.filter(last_check_ok=False) if result.ok else row.exclude(last_check_ok=False)
    if other.update(**outcome):
        reachability_changed.send(sender=Cloud, cloud=cloud, reachable=result.ok)
    else:
        row.update(**outcome)
    return result


@dataclass(frozen=True)
class SyncResult:
    sizes: int
    images: int
    subnets: int | None  # None: the cloud could not list them (`subnets_error` says why)
    subnets_error: str = ""


def catalogue_sync(*, cloud: Cloud) -> SyncResult:
    """Fetch the provider's sizes, images and subnets into the cloud's catalogue, replacing
    it. Sizes and images must be listed; a cloud that cannot list its subnets (an OpenStack
    without Nova's network proxy) keeps the subnets it had, and the result says why."""
    provider = provider_for(cloud)
    sizes = provider.list_sizes() if "list_sizes" in provider.capabilities else []
    images = provider.list_images() if "list_images" in provider.capabilities else []
    subnets, subnets_error = [], ""
    if "list_subnets" in provider.capabilities:
        try:
            subnets = provider.list_subnets()
        except ProviderError as exc:
            subnets, subnets_error = None, exc.message
    now = timezone.now()
    items = [
        CatalogueItem(
            cloud=cloud,
            kind=CatalogueItem.Kind.SIZE,
            provider_id=size.id,
            name=size.name[:255],
            vcpus=size.vcpus,
            ram_mb=size.ram_mb,
            disk_gb=size.disk_gb,
            synced_at=now,
        )
        for size in {size.id: size for size in sizes}.values()
    ] + [
        CatalogueItem(
            cloud=cloud,
            kind=CatalogueItem.Kind.IMAGE,
            provider_id=image.id,
            name=image.name[:255],
            synced_at=now,
        )
        for image in {image.id: image for image in images}.values()
    ]
    items += [
        CatalogueItem(
            cloud=cloud,
            kind=CatalogueItem.Kind.SUBNET,
            provider_id=subnet.id,
            name=(f"{subnet.name} ({subnet.cidr})" if subnet.cidr else subnet.name)[:255],
            synced_at=now,
        )
        for subnet in {subnet.id: subnet for subnet in subnets or ()}.values()
    ]
    replaced = cloud.catalogue.all()
    if subnets is None:
        replaced = replaced.exclude(kind=CatalogueItem.Kind.SUBNET)
    with transaction.atomic():
        replaced.delete()
        CatalogueItem.objects.bulk_create(items, batch_size=500)
    return SyncResult(
        sizes=len(sizes),
        images=len(images),
        subnets=None if subnets is None else len(subnets),
        subnets_error=subnets_error,
    )


class MappingCheck:
    """Whether provider ids exist at the provider, asking each cloud at most once per
    kind (one admin form may hold many mappings of one cloud)."""

    def __init__(self):
        self._sizes: dict[int, set[str] | ProviderError] = {}

    def size_exists(self, cloud: Cloud, provider_size_id: str) -> bool:
        """True or False; ProviderError when the cloud cannot tell (unreachable...)."""
        if cloud.pk not in self._sizes:
            try:
                self._sizes[cloud.pk] = {s.id for s in provider_for(cloud).list_sizes()}
            except ProviderError as exc:
                self._sizes[cloud.pk] = exc
        known = self._sizes[cloud.pk]
        if isinstance(known, ProviderError):
            raise known
        return provider_size_id in known

    def image_exists(self, cloud: Cloud, provider_image_id: str) -> bool:
        return provider_for(cloud).get_image(provider_image_id) is not None

    def subnet_exists(self, cloud: Cloud, provider_subnet_id: str) -> bool:
        return provider_for(cloud).get_subnet(provider_subnet_id) is not None


def mappings_check(*, cloud: Cloud) -> tuple[int, list[str]]:
    """Look each mapping of the cloud up at the provider (one size listing, one lookup per
    image and per subnet) and keep the outcome on it: how many were checked, and the
    provider ids the cloud lacks. ProviderError when the cloud cannot tell: the mappings
    keep what they knew."""
    checker = MappingCheck()
    lookups = [(m, m.provider_size_id, checker.size_exists) for m in cloud.size_mappings.all()]
    lookups += [(m, m.provider_image_id, checker.image_exists) for m in cloud.image_mappings.all()]
    lookups += [
        (m, m.provider_subnet_id, checker.subnet_exists) for m in cloud.subnet_mappings.all()
    ]
    missing = []
    for mapping, provider_id, exists in lookups:
        found = exists(cloud, provider_id)
        mapping.record_check(found)
        mapping.save(update_fields=["found_at_provider", "checked_at"])
        if not found:
            missing.append(provider_id)
    return len(lookups), missing
