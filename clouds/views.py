"""The read API of the configuration: clouds, sizes, images, subnets, roles, environments."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from clouds.access import cloud_for, visible_clouds
from clouds.models import (
    AbstractImage,
    AbstractSize,
    AbstractSubnet,
    Cloud,
    Environment,
    ImageMapping,
    Role,
    SizeMapping,
    SubnetMapping,
)
from clouds.serializers import (
    CloudImageSerializer,
    CloudSerializer,
    CloudSizeSerializer,
    CloudSubnetSerializer,
    EnvironmentSerializer,
    ImageSerializer,
    RoleSerializer,
    SizeSerializer,
    SubnetSerializer,
)
from instances.usage import annotate_usage
from pcm.errors import NotFound


class ByNameMixin:
    """Retrieve by `name`, with the API's own 404 message ("Size xl does not exist")."""

    lookup_field = "name"
    noun = "Object"

    def get_object(self):
        name = self.kwargs[self.lookup_field]
        try:
            return self.get_queryset().get(name=name)
        except self.get_queryset().model.DoesNotExist:
            raise NotFound(f"{self.noun} {name} does not exist") from None


@extend_schema_view(
    list=extend_schema(
        summary="Every cloud with its status, limits, quotas and usage",
        description="The clouds the user may see, by name. Reading a cloud never calls it: "
        "its status is what PCM's last check found.",
    ),
    retrieve=extend_schema(
        summary="One cloud with its status, limits, quotas and usage",
        description="The cloud by name, as PCM last found it (no call to the cloud).",
    ),
)
class CloudViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CloudSerializer
    queryset = Cloud.objects.none()
    lookup_url_kwarg = "cloud"

    def get_queryset(self):
        clouds = visible_clouds(self.request.user).select_related(
            "default_environment", "default_size", "default_image", "default_subnet"
        )
        return annotate_usage(clouds)

    def get_object(self) -> Cloud:
        name = self.kwargs["cloud"]
        cloud = self.get_queryset().filter(name=name).first()
        if cloud is None:
            raise NotFound(f"Cloud {name} does not exist")
        return cloud


class CloudScopedListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A list that belongs to the cloud named in the URL (404 when there is none)."""

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return self.serializer_class.Meta.model.objects.none()
        return self.related(cloud_for(self.request.user, self.kwargs["cloud"]))


@extend_schema_view(
    list=extend_schema(
        summary="Sizes this cloud offers, with its own ids",
        description="The abstract sizes mapped on this cloud, each with the cloud's flavour "
        "id and whether it is within the cloud's per-instance limits.",
    )
)
class CloudSizeViewSet(CloudScopedListViewSet):
    serializer_class = CloudSizeSerializer

    def related(self, cloud: Cloud):
        return SizeMapping.objects.filter(cloud=cloud).select_related("size", "cloud")


@extend_schema_view(
    list=extend_schema(
        summary="Images this cloud offers, with its own ids",
        description="The abstract images mapped on this cloud, each with the cloud's image id.",
    )
)
class CloudImageViewSet(CloudScopedListViewSet):
    serializer_class = CloudImageSerializer

    def related(self, cloud: Cloud):
        return ImageMapping.objects.filter(cloud=cloud).select_related("image")


@extend_schema_view(
    list=extend_schema(
        summary="Subnets this cloud offers, with its own ids",
        description="The abstract subnets mapped on this cloud, each with the cloud's "
        "network or subnet id.",
    )
)
class CloudSubnetViewSet(CloudScopedListViewSet):
    serializer_class = CloudSubnetSerializer

    def related(self, cloud: Cloud):
        return SubnetMapping.objects.filter(cloud=cloud).select_related("subnet")


def _visible_mappings(model, user) -> Prefetch:
    """A size's or image's mappings, in the clouds the user may see."""
    mappings = model.objects.filter(cloud__in=visible_clouds(user)).select_related("cloud")
    return Prefetch("mappings", queryset=mappings)


@extend_schema_view(
    list=extend_schema(
        summary="Abstract sizes and the clouds that map each",
        description="Every abstract size a create may name, by name, with the clouds "
        "(among those the user may see) that map it.",
    ),
    retrieve=extend_schema(
        summary="One abstract size",
        description="The abstract size by name, with the clouds that map it.",
    ),
)
class SizeViewSet(ByNameMixin, viewsets.ReadOnlyModelViewSet):
    noun = "Size"
    serializer_class = SizeSerializer
    queryset = AbstractSize.objects.all()

    def get_queryset(self):
        return AbstractSize.objects.prefetch_related(
            _visible_mappings(SizeMapping, self.request.user)
        )


@extend_schema_view(
    list=extend_schema(
        summary="Abstract images and the clouds that map each",
        description="Every abstract image a create may name, by name, with the clouds "
        "(among those the user may see) that map it.",
    ),
    retrieve=extend_schema(
        summary="One abstract image",
        description="The abstract image by name, with the clouds that map it.",
    ),
)
class ImageViewSet(ByNameMixin, viewsets.ReadOnlyModelViewSet):
    noun = "Image"
    serializer_class = ImageSerializer
    queryset = AbstractImage.objects.all()

    def get_queryset(self):
        return AbstractImage.objects.prefetch_related(
            _visible_mappings(ImageMapping, self.request.user)
        )


@extend_schema_view(
    list=extend_schema(
        summary="Abstract subnets and the clouds that map each",
        description="Every abstract subnet a create may name, by name, with the clouds "
        "(among those the user may see) that map it.",
    ),
    retrieve=extend_schema(
        summary="One abstract subnet",
        description="The abstract subnet by name, with the clouds that map it.",
    ),
)
class SubnetViewSet(ByNameMixin, viewsets.ReadOnlyModelViewSet):
    noun = "Subnet"
    serializer_class = SubnetSerializer
    queryset = AbstractSubnet.objects.all()

    def get_queryset(self):
        return AbstractSubnet.objects.prefetch_related(
            _visible_mappings(SubnetMapping, self.request.user)
        )


@extend_schema_view(
    list=extend_schema(
        summary="Roles a client may pass, with their policy",
        description="Every role by name, with the sizes, images and subnets it allows and "
        "its defaults.",
    ),
    retrieve=extend_schema(
        summary="One role",
        description="The role by name, with what it allows and its defaults.",
    ),
)
class RoleViewSet(ByNameMixin, viewsets.ReadOnlyModelViewSet):
    noun = "Role"
    serializer_class = RoleSerializer
    queryset = Role.objects.select_related(
        "default_size", "default_image", "default_subnet"
    ).prefetch_related("allowed_sizes", "allowed_images", "allowed_subnets")


@extend_schema_view(
    list=extend_schema(
        summary="Environments a client may pass",
        description="Every environment by name (dev, staging, prod...).",
    ),
    retrieve=extend_schema(summary="One environment", description="The environment by name."),
)
class EnvironmentViewSet(ByNameMixin, viewsets.ReadOnlyModelViewSet):
    noun = "Environment"
    serializer_class = EnvironmentSerializer
    queryset = Environment.objects.all()
