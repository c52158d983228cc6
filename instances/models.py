"""Instances PCM manages, their operation history, idempotency records and orphans."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clouds import crypto
from clouds.models import AbstractImage, AbstractSize, AbstractSubnet, Cloud, Environment, Role
from instances.choices import InstanceStatus, Outcome
from providers.status import Status

# Instances that exist, or may exist, at the provider: they count in quotas and keep their
# name. Not deleted, and not failed where no create can have made a node (no provider id,
# and no create sent whose outcome is unknown).
LIVE = ~Q(status=Status.DELETED) & ~Q(status=Status.ERROR, provider_id="", node_may_exist=False)


class InstanceQuerySet(models.QuerySet):
    def live(self):
        return self.filter(LIVE)


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
    subnet = models.ForeignKey(
        AbstractSubnet,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Blank: the cloud's own default network",
    )
    # The mapping as it was applied: a later edit of the mapping does not rewrite history.
    provider_size_id = models.CharField(max_length=255)
    provider_image_id = models.CharField(max_length=255)
    provider_subnet_id = models.CharField(max_length=255, blank=True)
    extra = models.JSONField(default=dict, blank=True, help_text="The extra applied")
    ssh_keys = models.JSONField(default=list, blank=True, help_text="OpenSSH public keys")
    tags = models.JSONField(default=dict, blank=True, help_text="The client's tags")
    # What a create sends that must stay secret: the user data (the client's, with the SSH
    # keys' cloud-config) and the sensitive members of `extra`; encrypted, and only until
    # the node exists: no create will need them again then.
    secrets_encrypted = models.TextField(blank=True, editable=False)
    user_data_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    user_data_size = models.PositiveIntegerField(null=True, blank=True, editable=False)
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
    # The record is the truth (docs/reliability.md): what PCM needs to call a node absent
    # only on evidence, and to know whether a node may exist that it has no id for.
    acted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When PCM last asked the cloud to create or start the node: for a while "
        "after it the cloud may not show the node yet (PCM_VISIBILITY_GRACE)",
    )
    absent_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The first reconcile listing that did not show the node; a second one at "
        "least PCM_ABSENCE_GAP later makes the instance deleted",
    )
    node_may_exist = models.BooleanField(
        default=False,
        help_text="A create was sent whose outcome is unknown (a timeout, a reset): until a "
        "listing shows the cloud without the node, the instance keeps its name and quota",
    )
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When the lease ends and PCM deletes the instance; blank: no expiry",
    )
    warned_for = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The expires_at an 'expiring' warning was recorded for: one warning per expiry",
    )
    task_entry = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="The queue entry (django-q2 OrmQ id) of the task that drives the instance "
        "now: reconciliation enqueues again only when it is gone",
    )

    objects = InstanceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cloud", "name"], condition=LIVE, name="unique_live_instance_name_per_cloud"
            )
        ]
        indexes = [models.Index(fields=["cloud", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.cloud})"

    def save(self, *args, **kwargs):
        # The secrets are erased once no create can need them: the node has an id, or the
        # instance ended without one.
        done = self.provider_id or self.status in (Status.DELETED, Status.ERROR)
        if self.secrets_encrypted and done:
            self.secrets_encrypted = ""
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "secrets_encrypted"}
        super().save(*args, **kwargs)

    def _secrets(self) -> dict:
        return crypto.decrypt(self.secrets_encrypted) if self.secrets_encrypted else {}

    @staticmethod
    def encrypt_secrets(*, user_data: str = "", extra: dict | None = None) -> str:
        """`secrets_encrypted` for what the create will send that must not be shown."""
        if not (user_data or extra):
            return ""
        return crypto.encrypt({"user_data": user_data, "extra": extra or {}})

    @property
    def user_data(self) -> str:
        """The user data to send (decrypted; "" once erased). Never log or show it."""
        return self._secrets().get("user_data", "")

    @property
    def secret_extra(self) -> dict:
        """The sensitive members of `extra` (decrypted; {} once erased)."""
        return self._secrets().get("extra", {})

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
    """A create made with an Idempotency-Key: replayed for the same key, user, cloud and
    body within the window counted from the first request (instances/idempotency.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    cloud = models.ForeignKey(Cloud, null=True, on_delete=models.CASCADE, related_name="+")
    body_hash = models.CharField(max_length=64)
    instance = models.ForeignKey(Instance, null=True, on_delete=models.CASCADE)
    # Empty while the first request is still being handled.
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When the request now handling the key started: a takeover compares and sets it.
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} by {self.user}"


class Orphan(models.Model):
    """A live node that carries PCM's tag but is no live instance's node (seen by
    reconciliation): its id is unknown, its instance is deleted or failed without it, or it
    is a second node of a live instance (a duplicate) that PCM did not destroy."""

    class Reason(models.TextChoices):
        UNKNOWN = "unknown", "no instance has its PCM id"
        DELETED = "deleted", "its instance is deleted or failed"
        DUPLICATE = "duplicate", "a second node of a live instance"

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="orphans")
    provider_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    pcm_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.UNKNOWN)
    instance = models.ForeignKey(
        Instance, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw_status = models.CharField(max_length=64, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cloud", "provider_id"], name="unique_orphan")
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} in {self.cloud}"
