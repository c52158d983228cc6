"""URL patterns of the webhook API, mounted under /pcm_api/v2/ by pcm/urls.py."""

from django.urls import path

from webhooks import views

top_level = [
    path(
        "webhooks",
        views.SubscriptionViewSet.as_view({"get": "list", "post": "create"}),
        name="webhook-list",
    ),
    path(
        "webhooks/<str:name>",
        views.SubscriptionViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="webhook-detail",
    ),
]
