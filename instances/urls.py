"""URL patterns of the instance API, mounted by pcm/urls.py under /clouds/{cloud}/."""

from django.urls import path

from instances import views

collection = views.InstanceViewSet.as_view({"get": "list", "post": "create"})
member = views.InstanceViewSet.as_view(
    {"get": "retrieve", "delete": "destroy", "put": "update", "patch": "partial_update"}
)

cloud_scoped = [
    path("instances", collection, name="instance-list"),
    path("instances/<str:instance>", member, name="instance-detail"),
    path(
        "instances/<str:instance>/console_log",
        views.InstanceViewSet.as_view({"get": "console_log"}),
        name="instance-console-log",
    ),
    path("orphans", views.OrphanListView.as_view(), name="orphan-list"),
    path(
        "instances/<str:instance>/events",
        views.InstanceViewSet.as_view({"get": "events"}),
        name="instance-events",
    ),
]

top_level = [path("instances", views.AllInstancesView.as_view(), name="all-instances")]
