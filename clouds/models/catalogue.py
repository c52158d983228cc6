"""What a client names in a create: environments, abstract sizes, images and subnets, and
roles with their policy."""

from __future__ import annotations

from django.db import models

from clouds.models.fields import SANE, name_field


class Environment(models.Model):
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


class Role(models.Model):
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
