"""Instances PCM manages, their operation history, idempotency records and orphans."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from clouds.models import AbstractImage, AbstractSize, Cloud, Environment, Role
from instances.choices import FREED, InstanceStatus, Outcome
from providers.status import Status


class InstanceQuerySet(models.QuerySet):
    def live(self):
        """Instances that exist, or may exist, at the provider (they count in quotas):
        not deleted, and not failed before the provider ever gave them an id."""
        return self.exclude(status__in=FREED).exclude(status=Status.ERROR, provider_id="")


class Instance(models.Model):
    """One instance in one cloud: what the client asked for, what the provider said."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cloud = models.ForeignKey(Cloud, on_delete=models.PROTECT, related_name="instances")
    name = models.CharField(max_length=255)
    role = models.ForeignKey(
        Role, null=True, blank=True, on_delete=models.PROTECT, related_name="instances"
    )
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    size = models.ForeignKey(AbstractSize, on_delete=models.PROTECT, related_name="+")
    image = models.ForeignKey(AbstractImage, on_delete=models.PROTECT, related_name="+")
    # The mapping as it was applied: a later edit of the mapping does not rewrite history.
    provider_size_id = models.CharField(max_length=255)
    provider_image_id = models.CharField(max_length=255)
    extra = models.JSONField(default=dict, blank=True, help_text="The extra applied")
    provider_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(
        max_length=16, choices=InstanceStatus.choices, default=Status.PENDING, db_index=True
    )
    raw_status = models.CharField(max_length=64, blank=True)
    status_since = models.DateTimeField(default=timezone.now)
    public_ips = models.JSONField(default=list, blank=True)
    private_ips = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # A worker holding the instance for a provider call, until this time (a lease: a
    # second delivery of the same task waits instead of calling the provider again).
    busy_until = models.DateTimeField(null=True, blank=True)
    inventory_synced = models.BooleanField(default=False)

    objects = InstanceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cloud", "name"],
                condition=~models.Q(status__in=[Status.DELETED, Status.ERROR]),
                name="unique_live_instance_name_per_cloud",
            )
        ]
        indexes = [models.Index(fields=["cloud", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.cloud})"

    def set_status(self, status: Status, raw: str | None = None) -> None:
        if status != self.status:
            self.status = status
            self.status_since = timezone.now()
        if raw is not None:
            self.raw_status = raw


class InstanceEvent(models.Model):
    """One operation on an instance: who asked, what, when, and how it ended."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="events")
    actor = models.CharField(max_length=150, help_text="A user name, or 'pcm' for PCM itself")
    action = models.CharField(max_length=32)
    request_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField(blank=True)
    detail = models.TextField(blank=True, help_text="What happened, when it was not an error")

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}: {self.outcome}"

    def finish(self, error: str = "") -> None:
        self.finished_at = timezone.now()
        self.outcome = Outcome.FAILED if error else Outcome.SUCCEEDED
        self.error = error
        self.save(update_fields=["finished_at", "outcome", "error"])


class IdempotencyRecord(models.Model):
    """A create made with an Idempotency-Key: replayed for the same key, user and body."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    instance = models.ForeignKey(Instance, null=True, on_delete=models.CASCADE)
    # Empty while the first request is still being handled.
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} by {self.user}"


class Orphan(models.Model):
    """A node that carries PCM's tag but matches no instance row (seen by reconciliation)."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="orphans")
    provider_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    pcm_id = models.CharField(max_length=64)
    raw_status = models.CharField(max_length=64, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cloud", "provider_id"], name="unique_orphan")
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} in {self.cloud}"
