"""URL patterns of the configuration API, mounted by pcm/urls.py.

`top_level` lives directly under /pcm_api/v2/; `cloud_scoped` under /clouds/{cloud}/ and
its aliases.
"""

from django.urls import path

from clouds import views

top_level = [
    path("sizes", views.SizeViewSet.as_view({"get": "list"}), name="size-list"),
    path("sizes/<str:name>", views.SizeViewSet.as_view({"get": "retrieve"}), name="size-detail"),
    path("images", views.ImageViewSet.as_view({"get": "list"}), name="image-list"),
    path("images/<str:name>", views.ImageViewSet.as_view({"get": "retrieve"}), name="image-detail"),
    path("subnets", views.SubnetViewSet.as_view({"get": "list"}), name="subnet-list"),
    path(
        "subnets/<str:name>",
        views.SubnetViewSet.as_view({"get": "retrieve"}),
        name="subnet-detail",
    ),
    path("roles", views.RoleViewSet.as_view({"get": "list"}), name="role-list"),
    path("roles/<str:name>", views.RoleViewSet.as_view({"get": "retrieve"}), name="role-detail"),
    path("environments", views.EnvironmentViewSet.as_view({"get": "list"}), name="env-list"),
    path(
        "environments/<str:name>",
        views.EnvironmentViewSet.as_view({"get": "retrieve"}),
        name="env-detail",
    ),
]

cloud_list = views.CloudViewSet.as_view({"get": "list"})
cloud_detail = views.CloudViewSet.as_view({"get": "retrieve"})

cloud_scoped = [
    path("sizes", views.CloudSizeViewSet.as_view({"get": "list"}), name="cloud-sizes"),
    path("images", views.CloudImageViewSet.as_view({"get": "list"}), name="cloud-images"),
    path("subnets", views.CloudSubnetViewSet.as_view({"get": "list"}), name="cloud-subnets"),
]
