"""A cloud and the Inventory backend it names its instances with."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from clouds.models.catalogue import AbstractImage, AbstractSize, AbstractSubnet, Environment
from clouds.models.connection import EncryptedCredentials, OutboundAllowed
from clouds.models.fields import limit_field, name_field
from providers import registry
from providers.inventory.registry import inventories


class InventoryBackend(OutboundAllowed, EncryptedCredentials):
    """Where instance names come from and where systems are recorded: an Inventory plugin
    (providers/inventory/) with its options and encrypted credentials. A cloud without one
    uses the built-in Inventory with its default template."""

    name = name_field()
    plugin = models.CharField(max_length=64, help_text="Inventory plugin key: builtin or http")
    options = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            plugin = inventories.get(self.plugin)
        except registry.UnknownProvider as exc:
            raise ValidationError({"plugin": str(exc)}) from None
        self.clean_options(plugin)


class Cloud(OutboundAllowed, EncryptedCredentials):
    """One cloud PCM manages: a provider plugin, its options and encrypted credentials,
    limits, quotas and defaults."""

    name = name_field(help_text="As used in URLs, e.g. SNV-LAB-1")
    description = models.TextField(blank=True)
    # A plain string checked against the plugin registry in clean(): a new plugin
    # needs no migration.
    provider = models.CharField(max_length=64, help_text="Provider plugin key, e.g. ec2")
    options = models.JSONField(
        default=dict, blank=True, help_text="The plugin's options (region, endpoint, ...)"
    )
    enabled = models.BooleanField(
        default=True, help_text="A disabled cloud refuses new work with 503"
    )

    max_vcpus = limit_field("Largest instance allowed: vCPUs (blank: no limit)")
    max_ram_mb = limit_field("Largest instance allowed: RAM in MB (blank: no limit)")
    max_disk_gb = limit_field("Largest instance allowed: disk in GB (blank: no limit)")
    quota_instances = limit_field("Most instances at once (blank: no quota)")
    quota_vcpus = limit_field("Most vCPUs in all instances (blank: no quota)")
    quota_ram_mb = limit_field("Most RAM in MB in all instances (blank: no quota)")

    default_environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_size = models.ForeignKey(
        AbstractSize, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_image = models.ForeignKey(
        AbstractImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_subnet = models.ForeignKey(
        AbstractSubnet,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Blank: the cloud's own default network",
    )
    inventory = models.ForeignKey(
        InventoryBackend,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Blank: the built-in Inventory, names like dev-web-001",
    )
    extra_allowed = models.JSONField(
        default=list,
        blank=True,
        help_text="The extra options a create may give, as a JSON list of names (blank: "
        "every option the plugin takes except the privileged ones; a privileged one, such "
        "as EC2's iamprofile, only when listed here)",
    )
    placement_group = models.CharField(
        max_length=255,
        blank=True,
        help_text="EC2: the spread placement group for roles that spread over hosts",
    )

    # Written by the reachability check, never by hand.
    last_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_ok = models.BooleanField(null=True, editable=False)
    last_check_latency_ms = models.FloatField(null=True, blank=True, editable=False)
    last_check_error = models.TextField(blank=True, editable=False)
    # The circuit breaker (clouds/breaker.py), shared by every PCM process.
    breaker_failures = models.PositiveIntegerField(default=0, editable=False)
    breaker_open_until = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Written by PCM as it runs (other processes, other requests), never by a save of the
    # configuration: a save with an older copy of the row must not roll them back.
    RUNTIME_FIELDS = frozenset(
        {
            "last_check_at",
            "last_check_ok",
            "last_check_latency_ms",
            "last_check_error",
            "breaker_failures",
            "breaker_open_until",
        }
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.pk and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.RUNTIME_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def plugin(self):
        return registry.get(self.provider)

    @property
    def capabilities(self) -> list[str]:
        """What the cloud's plugin can do; empty when the plugin is not installed."""
        try:
            return sorted(registry.get(self.provider).capabilities)
        except registry.UnknownProvider:
            return []

    @property
    def limits(self) -> dict[str, int | None]:
        return {"vcpus": self.max_vcpus, "ram_mb": self.max_ram_mb, "disk_gb": self.max_disk_gb}

    @property
    def quotas(self) -> dict[str, int | None]:
        return {
            "instances": self.quota_instances,
            "vcpus": self.quota_vcpus,
            "ram_mb": self.quota_ram_mb,
        }

    def size_within_limits(self, size: AbstractSize) -> bool:
        return all(
            limit is None or value <= limit
            for value, limit in (
                (size.vcpus, self.max_vcpus),
                (size.ram_mb, self.max_ram_mb),
                (size.disk_gb, self.max_disk_gb),
            )
        )

    def clean(self) -> None:
        try:
            plugin = registry.get(self.provider)
        except registry.UnknownProvider as exc:
            raise ValidationError({"provider": str(exc)}) from None
        self.clean_options(plugin)
        declared = plugin.extra_declared()
        if self.extra_allowed is None:  # a blank form field
            self.extra_allowed = []
        given = self.extra_allowed
        if not isinstance(given, list) or not all(isinstance(key, str) for key in given):
            raise ValidationError({"extra_allowed": "A JSON list of option names, or blank"})
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ValidationError(
                {
                    "extra_allowed": f"{self.provider} takes no extra option(s) "
                    f"{', '.join(unknown)}; it takes: {', '.join(sorted(declared)) or 'none'}"
                }
            )
