"""/pcm_api/v2/webhooks: subscriptions, for staff only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.permissions import IsAdminUser, IsAuthenticated

from pcm.auth import TokenScope
from pcm.errors import NotFound
from webhooks.models import Subscription
from webhooks.serializers import SubscriptionSerializer


@extend_schema_view(
    list=extend_schema(summary="Every webhook subscription (staff only)"),
    retrieve=extend_schema(summary="One webhook subscription (its secret is never shown)"),
    create=extend_schema(summary="Subscribe a URL to PCM's events"),
    partial_update=extend_schema(summary="Change a subscription (a new secret, events...)"),
    destroy=extend_schema(summary="Remove a subscription and its deliveries"),
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
