"""PCM's configuration: clouds, abstract sizes, images and subnets and their per-cloud mappings,
roles and environments. All of it is edited in the Django admin and read on every request
(nothing is cached), so an edit applies to the next request."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from clouds import crypto
from providers import outbound, registry
from providers.apps import site_allowances
from providers.base import ConfigError
from providers.inventory.registry import inventories

# Names appear in URLs (/clouds/SNV-LAB-1) and in Inventory names (dev-web-001).
name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    "Use letters, digits, '.', '_' and '-', starting with a letter or a digit.",
)


def _name_field(**kwargs) -> models.CharField:
    return models.CharField(max_length=64, unique=True, validators=[name_validator], **kwargs)


# Far above any real machine or cloud, and within every database's integer.
ABSURD = 1_000_000_000
SANE = [MinValueValidator(1), MaxValueValidator(ABSURD)]


def _limit_field(help_text: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(null=True, blank=True, validators=SANE, help_text=help_text)


class Environment(models.Model):
    """A PRISM environment (dev, staging, prod) that instances are associated with."""

    name = _name_field()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AbstractSize(models.Model):
    """A size clients ask for ("medium"); each cloud maps it to a flavour of its own."""

    name = _name_field()
    vcpus = models.PositiveIntegerField("vCPUs", validators=SANE)
    ram_mb = models.PositiveIntegerField("RAM (MB)", validators=SANE)
    disk_gb = models.PositiveIntegerField("disk (GB)", validators=SANE)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["vcpus", "ram_mb", "name"]
        verbose_name = "abstract size"

    def __str__(self) -> str:
        return self.name


class AbstractImage(models.Model):
    """An image clients ask for ("centos-9"); each cloud maps it to an image id of its own."""

    name = _name_field()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "abstract image"

    def __str__(self) -> str:
        return self.name


class AbstractSubnet(models.Model):
    """A network clients ask for ("backend"); each cloud maps it to a subnet or network id
    of its own (an EC2 subnet, an OpenStack network)."""

    name = _name_field()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "abstract subnet"

    def __str__(self) -> str:
        return self.name


class EncryptedCredentials(models.Model):
    """Credentials kept encrypted (clouds/crypto.py) in `credentials_encrypted`."""

    credentials_encrypted = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def credentials(self) -> dict[str, Any]:
        """The decrypted credentials; never log or serialize them."""
        if not self.credentials_encrypted:
            return {}
        return crypto.decrypt(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, value: dict[str, Any]) -> None:
        self.credentials_encrypted = crypto.encrypt(value) if value else ""


def _default_outbound_allow() -> list[str]:
    return list(outbound.DEFAULT_ALLOW)


class OutboundAllowed(models.Model):
    """Where the URLs of a cloud or an Inventory may be: public addresses, and the ranges
    `outbound_allow` lists (providers/outbound.py). Checked on save and on every connection."""

    outbound_allow = models.JSONField(
        default=_default_outbound_allow,
        blank=True,
        help_text="Address ranges its URLs may be at besides public addresses, as a JSON list "
        f"of {', '.join(outbound.WORDS)} (blank: public addresses only; cloud metadata "
        "addresses never)",
    )

    class Meta:
        abstract = True

    @property
    def outbound_policy(self) -> outbound.Policy:
        """This object's allowances and the site's (PCM_OUTBOUND_ALLOW, DEBUG)."""
        return outbound.Policy.of(self.outbound_allow or [], site_allowances())

    def clean_outbound(self, plugin: Any) -> None:
        """ValidationError when outbound_allow is not a list of known words, or a URL option
        resolves to an address it does not allow."""
        if self.outbound_allow is None:  # a blank form field
            self.outbound_allow = []
        given = self.outbound_allow
        if not isinstance(given, list) or not all(isinstance(word, str) for word in given):
            raise ValidationError(
                {"outbound_allow": f"A JSON list of {', '.join(outbound.WORDS)}, or blank"}
            )
        try:
            policy = self.outbound_policy
        except ValueError as exc:
            raise ValidationError({"outbound_allow": str(exc).capitalize()}) from None
        refusals = plugin.outbound_refusals(self.options, policy)
        if refusals:
            raise ValidationError({"options": [f"{name}: {why}" for name, why in refusals.items()]})


class InventoryBackend(OutboundAllowed, EncryptedCredentials):
    """Where instance names come from and where systems are recorded: an Inventory plugin
    (providers/inventory/) with its options and encrypted credentials. A cloud without one
    uses the built-in Inventory with its default template."""

    name = _name_field()
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
        try:
            self.options = plugin.validate_options(self.options)
        except ConfigError as exc:
            messages = [f"{name}: {message}" for name, message in exc.errors.items()]
            raise ValidationError({"options": messages}) from None
        self.clean_outbound(plugin)


class Cloud(OutboundAllowed, EncryptedCredentials):
    """One cloud PCM manages: a provider plugin, its options and encrypted credentials,
    limits, quotas and defaults."""

    name = _name_field(help_text="As used in URLs, e.g. SNV-LAB-1")
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

    max_vcpus = _limit_field("Largest instance allowed: vCPUs (blank: no limit)")
    max_ram_mb = _limit_field("Largest instance allowed: RAM in MB (blank: no limit)")
    max_disk_gb = _limit_field("Largest instance allowed: disk in GB (blank: no limit)")
    quota_instances = _limit_field("Most instances at once (blank: no quota)")
    quota_vcpus = _limit_field("Most vCPUs in all instances (blank: no quota)")
    quota_ram_mb = _limit_field("Most RAM in MB in all instances (blank: no quota)")

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
        try:
            self.options = plugin.validate_options(self.options)
        except ConfigError as exc:
            messages = [f"{name}: {message}" for name, message in exc.errors.items()]
            raise ValidationError({"options": messages}) from None
        self.clean_outbound(plugin)
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


class CheckedAtProvider(models.Model):
    """A mapping's provider id as last looked up at the provider (when a form saves it, and
    on the cloud's "Sync catalogue" and "Check mappings"), so that a list shows it without
    calling the provider once per row."""

    found_at_provider = models.BooleanField(
        null=True, editable=False, help_text="Unknown: never checked, or the cloud could not tell"
    )
    checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def record_check(self, found: bool | None) -> None:
        """Keep the outcome of a lookup (unsaved: the caller saves the row)."""
        self.found_at_provider = found
        self.checked_at = timezone.now()


class SizeMapping(CheckedAtProvider):
    """Which flavour of a cloud an abstract size means."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="size_mappings")
    size = models.ForeignKey(AbstractSize, on_delete=models.CASCADE, related_name="mappings")
    provider_size_id = models.CharField(max_length=255, help_text="The cloud's own flavour id")

    class Meta:
        ordering = ["cloud__name", "size__vcpus", "size__ram_mb", "size__name"]
        constraints = [
            models.UniqueConstraint(fields=["cloud", "size"], name="unique_size_per_cloud")
        ]

    def __str__(self) -> str:
        return f"{self.size} on {self.cloud}: {self.provider_size_id}"


class ImageMapping(CheckedAtProvider):
    """Which image of a cloud an abstract image means."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="image_mappings")
    image = models.ForeignKey(AbstractImage, on_delete=models.CASCADE, related_name="mappings")
    provider_image_id = models.CharField(max_length=255, help_text="The cloud's own image id")

    class Meta:
        ordering = ["cloud__name", "image__name"]
        constraints = [
            models.UniqueConstraint(fields=["cloud", "image"], name="unique_image_per_cloud")
        ]

    def __str__(self) -> str:
        return f"{self.image} on {self.cloud}: {self.provider_image_id}"


class SubnetMapping(CheckedAtProvider):
    """Which subnet (EC2) or network (OpenStack) of a cloud an abstract subnet means."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="subnet_mappings")
    subnet = models.ForeignKey(AbstractSubnet, on_delete=models.CASCADE, related_name="mappings")
    provider_subnet_id = models.CharField(
        max_length=255, help_text="The cloud's own subnet or network id"
    )

    class Meta:
        ordering = ["cloud__name", "subnet__name"]
        constraints = [
            models.UniqueConstraint(fields=["cloud", "subnet"], name="unique_subnet_per_cloud")
        ]

    def __str__(self) -> str:
        return f"{self.subnet} on {self.cloud}: {self.provider_subnet_id}"

    def clean(self) -> None:
        cloud = getattr(self, "cloud", None)
        if cloud is not None and "subnets" not in cloud.capabilities:
            raise ValidationError(f"Cloud {cloud.name}'s plugin ({cloud.provider}) takes no subnet")


class Role(models.Model):
    """What a server on the instance does (web, db): its allowed sizes, images and subnets,
    its defaults, and scheduling hints."""

    name = _name_field()
    description = models.TextField(blank=True)
    allowed_sizes = models.ManyToManyField(
        AbstractSize, blank=True, related_name="roles", help_text="None selected: every size"
    )
    allowed_images = models.ManyToManyField(
        AbstractImage, blank=True, related_name="roles", help_text="None selected: every image"
    )
    default_size = models.ForeignKey(
        AbstractSize, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_image = models.ForeignKey(
        AbstractImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    allowed_subnets = models.ManyToManyField(
        AbstractSubnet, blank=True, related_name="roles", help_text="None selected: every subnet"
    )
    default_subnet = models.ForeignKey(
        AbstractSubnet, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    spread_over_hosts = models.BooleanField(
        default=False,
        help_text="Anti-affinity: place instances of this role and environment on different "
        "hosts, through the provider's own hint where it has one",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CatalogueItem(models.Model):
    """A size, image or subnet the provider offers, as last fetched by "Sync catalogue":
    what a mapping's provider id is chosen from."""

    class Kind(models.TextChoices):
        SIZE = "size"
        IMAGE = "image"
        SUBNET = "subnet"

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="catalogue")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    provider_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    vcpus = models.PositiveIntegerField(null=True, blank=True)
    ram_mb = models.PositiveIntegerField(null=True, blank=True)
    disk_gb = models.PositiveIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["cloud__name", "kind", "provider_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cloud", "kind", "provider_id"], name="unique_catalogue_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} ({self.name})" if self.name else self.provider_id


class CloudAccess(models.Model):
    """A group's access to a cloud (or, with no cloud, to every cloud). Users see only the
    clouds their groups are granted; superusers see all."""

    class Level(models.TextChoices):
        READ = "read", "read-only"
        OPERATE = "operate", "operator"

    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="cloud_access")
    cloud = models.ForeignKey(
        Cloud,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access",
        help_text="Blank: every cloud",
    )
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.READ)

    class Meta:
        verbose_name_plural = "cloud access"
        constraints = [
            models.UniqueConstraint(fields=["group", "cloud"], name="unique_access_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.get_level_display()} on {self.cloud or 'every cloud'}"
