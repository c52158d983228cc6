"""What a client names in a create: environments, abstract sizes, images and subnets, and
roles with their policy."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from clouds.models.fields import SANE, name_field


class LeasePolicy(models.Model):
    """A role's or an environment's lease policy: the lease a create gets when it names
    none, and the longest one it may ask for (docs/configuration.md)."""

    default_lease = models.DurationField(
        null=True,
        blank=True,
        help_text="The lease of a create that names none (e.g. 8:00:00 for 8 hours); blank: "
        "none, or the maximum where one applies",
    )
    max_lease = models.DurationField(
        null=True,
        blank=True,
        help_text="The longest lease a create or an extension may ask for (e.g. 7 00:00:00 "
        "for 7 days); blank: no maximum, and instances may have no expiry",
    )

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        for name in ("default_lease", "max_lease"):
            value = getattr(self, name)
            if value is not None and value.total_seconds() <= 0:
                raise ValidationError({name: "Must be longer than zero"})
        if self.default_lease and self.max_lease and self.default_lease > self.max_lease:
            raise ValidationError({"default_lease": "Must not be longer than the maximum lease"})


class Environment(LeasePolicy):
    """A PRISM environment (dev, staging, prod) that instances are associated with."""

    name = name_field()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AbstractSize(models.Model):
    """A size clients ask for ("medium"); each cloud maps it to a flavour of its own."""

    name = name_field()
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

    name = name_field()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "abstract image"

    def __str__(self) -> str:
        return self.name


class AbstractSubnet(models.Model):
    """A network clients ask for ("backend"); each cloud maps it to a subnet or network id
    of its own (an EC2 subnet, an OpenStack network)."""

    name = name_field()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "abstract subnet"

    def __str__(self) -> str:
        return self.name


class Role(LeasePolicy):
    """What a server on the instance does (web, db): its allowed sizes, images and subnets,
    its defaults, and scheduling hints."""

    name = name_field()
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
