"""Webhook subscriptions, the events PCM sends them, and each delivery of an event."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from clouds import crypto
from clouds.models import Cloud
from clouds.models.connection import OutboundAllowed
from instances.models import Instance
from providers import outbound
from webhooks.events import TYPES


class Subscription(OutboundAllowed):
    """A receiver: its URL, the secret that signs what it gets, and what it wants."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500, help_text="Where PCM POSTs each event (http or https)")
    secret_encrypted = models.TextField(editable=False)
    event_types = models.JSONField(
        default=list,
        blank=True,
        help_text=f"A JSON list of event types (blank: all): {', '.join(TYPES)}",
    )
    clouds = models.ManyToManyField(
        Cloud, blank=True, related_name="+", help_text="The clouds it hears of (none: all)"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret(self) -> str:
        """The signing secret (decrypted); never log or serialize it."""
        return crypto.decrypt(self.secret_encrypted)["secret"] if self.secret_encrypted else ""

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt({"secret": value})

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def clean(self) -> None:
        if self.event_types is None:
            self.event_types = []
        types = self.event_types
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ValidationError({"event_types": f"A JSON list of {', '.join(TYPES)}"})
        unknown = sorted(set(types) - set(TYPES))
        if unknown:
            raise ValidationError(
                {"event_types": f"Unknown {', '.join(unknown)}; accepted: {', '.join(TYPES)}"}
            )
        if self.outbound_allow is None:
            self.outbound_allow = []
        try:
            policy = self.outbound_policy
        except (ValueError, TypeError):
            raise ValidationError(
                {"outbound_allow": f"A JSON list of {', '.join(outbound.WORDS)}, or blank"}
            ) from None
        if urlsplit(self.url or "").scheme not in ("http", "https"):
            raise ValidationError({"url": "An http or https URL"})
        refusal = outbound.url_refusal(self.url, policy)
        if refusal:
            raise ValidationError({"url": refusal})


class Event(models.Model):
    """Something that happened, as every subscriber that wants it receives it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    cloud = models.ForeignKey(Cloud, null=True, on_delete=models.SET_NULL, related_name="+")
    instance = models.ForeignKey(
        Instance, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(help_text="The body POSTed, as sent on every attempt")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"  # not sent yet, or to be tried again at next_attempt_at
    DELIVERED = "delivered"
    FAILED = "failed"  # given up (PCM_WEBHOOK_RETRY_FOR after the event)


class Delivery(models.Model):
    """One event for one subscription: how its attempts went."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-next_attempt_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="one_delivery_per_event")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription}"
