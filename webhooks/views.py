"""/pcm_api/v2/webhooks: subscriptions, for staff only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.permissions import IsAdminUser, IsAuthenticated

from pcm.auth import TokenScope
from pcm.errors import NotFound
from webhooks.models import Subscription
from webhooks.serializers import SubscriptionPatchSerializer, SubscriptionSerializer


@extend_schema_view(
    list=extend_schema(
        summary="Every webhook subscription (staff only)",
        description="The subscriptions, by name: URL, event types, clouds, enabled. The "
        "secret is never shown.",
    ),
    retrieve=extend_schema(
        summary="One webhook subscription (staff only)",
        description="The subscription by name; its secret is never shown.",
    ),
    create=extend_schema(
        summary="Subscribe a URL to PCM's events (staff only)",
        description="PCM POSTs each event the subscription wants, signed with its secret "
        "(PCM-Signature), and retries a failed delivery for a day (docs/webhooks.md). The "
        "URL must be http(s) at a public address, or one that outbound_allow lists.",
    ),
    partial_update=extend_schema(
        request=SubscriptionPatchSerializer,
        summary="Change a webhook subscription (staff only)",
        description="Any field, a new secret included; the fields not given are kept.",
    ),
    destroy=extend_schema(
        summary="Remove a webhook subscription (staff only)",
        description="The subscription and its deliveries; nothing more is sent to it.",
    ),
)
class SubscriptionViewSet(viewsets.ModelViewSet):
    """Webhook subscriptions: where PCM POSTs its signed events (docs/webhooks.md)."""

    permission_classes = [IsAuthenticated, IsAdminUser, TokenScope]
    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.prefetch_related("clouds")
    lookup_field = "name"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_object(self):
        name = self.kwargs["name"]
        try:
            return self.get_queryset().get(name=name)
        except Subscription.DoesNotExist:
            raise NotFound(f"Webhook {name} does not exist") from None
