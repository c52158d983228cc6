"""What an abstract size, image or subnet is on one cloud, and the cloud's own catalogue
that a mapping's provider id is chosen from."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from clouds.models.catalogue import AbstractImage, AbstractSize, AbstractSubnet
from clouds.models.cloud import Cloud


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
