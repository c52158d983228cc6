"""The built-in Inventory's data. Clouds are referred to by name: this package imports
none of PCM's apps."""

from __future__ import annotations

from django.db import models


class NameSequence(models.Model):
    """The last number given out for one name prefix (e.g. "dev-web-")."""

    prefix = models.CharField(max_length=255, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"


class SystemRecord(models.Model):
    """A name the built-in Inventory gave out, and the system that carries it."""

    class State(models.TextChoices):
        RESERVED = "reserved"
        REGISTERED = "registered"

    cloud = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    pcm_id = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RESERVED)
    role = models.CharField(max_length=64, blank=True)
    environment = models.CharField(max_length=64, blank=True)
    size = models.CharField(max_length=64, blank=True)
    image = models.CharField(max_length=64, blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=32, blank=True)
    ips = models.JSONField(default=list, blank=True)
    reserved_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cloud", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cloud", "name"], name="unique_system_name_per_cloud")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cloud})"
