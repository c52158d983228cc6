"""What the read API shows of the configuration. Credentials are never among it."""

from __future__ import annotations

from django.utils.duration import duration_iso_string
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

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


class LimitsSerializer(serializers.Serializer):
    vcpus = serializers.IntegerField(allow_null=True)
    ram_mb = serializers.IntegerField(allow_null=True)
    disk_gb = serializers.IntegerField(allow_null=True)


class QuotasSerializer(serializers.Serializer):
    instances = serializers.IntegerField(allow_null=True)
    vcpus = serializers.IntegerField(allow_null=True)
    ram_mb = serializers.IntegerField(allow_null=True)


class UsageSerializer(serializers.Serializer):
    """What the cloud's live instances (every status but deleted) use: what quotas count."""

    instances = serializers.IntegerField(source="usage_instances")
    vcpus = serializers.IntegerField(source="usage_vcpus")
    ram_mb = serializers.IntegerField(source="usage_ram_mb")


class CloudStatusSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    reachable = serializers.BooleanField(allow_null=True, source="last_check_ok")
    last_check = serializers.DateTimeField(allow_null=True, source="last_check_at")
    latency_ms = serializers.FloatField(allow_null=True, source="last_check_latency_ms")
    last_error = serializers.CharField(source="last_check_error")
    capabilities = serializers.ListField(child=serializers.CharField())


class CloudDefaultsSerializer(serializers.Serializer):
    environment = serializers.CharField(
        source="default_environment.name", allow_null=True, read_only=True
    )
    size = serializers.CharField(source="default_size.name", allow_null=True, read_only=True)
    image = serializers.CharField(source="default_image.name", allow_null=True, read_only=True)
    subnet = serializers.CharField(
        source="default_subnet.name",
        allow_null=True,
        read_only=True,
        help_text="Null: the cloud's own default network",
    )


class CloudSerializer(serializers.ModelSerializer):
    """A cloud with its status, limits, quotas, usage and defaults. `options` holds only the
    plugin's non-secret options; credentials live elsewhere and are never serialized. The
    cloud must come annotated with its usage (instances.usage.annotate_usage)."""

    status = CloudStatusSerializer(source="*")
    limits = LimitsSerializer()
    quotas = QuotasSerializer()
    usage = UsageSerializer(source="*")
    defaults = CloudDefaultsSerializer(source="*")

    class Meta:
        model = Cloud
        fields = [
            "name",
            "description",
            "provider",
            "enabled",
            "options",
            "status",
            "limits",
            "quotas",
            "usage",
            "defaults",
        ]


class SizeSerializer(serializers.ModelSerializer):
    clouds = serializers.SerializerMethodField(help_text="Clouds that map this size")

    class Meta:
        model = AbstractSize
        fields = ["name", "vcpus", "ram_mb", "disk_gb", "description", "clouds"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_clouds(self, size: AbstractSize) -> list[str]:
        return sorted(mapping.cloud.name for mapping in size.mappings.all())


class CloudSizeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="size.name")
    vcpus = serializers.IntegerField(source="size.vcpus")
    ram_mb = serializers.IntegerField(source="size.ram_mb")
    disk_gb = serializers.IntegerField(source="size.disk_gb")
    description = serializers.CharField(source="size.description")
    within_limits = serializers.SerializerMethodField(
        help_text="False when the size is above the cloud's per-instance limits (a create "
        "would be refused with 507)"
    )

    class Meta:
        model = SizeMapping
        fields = [
            "name",
            "provider_size_id",
            "vcpus",
            "ram_mb",
            "disk_gb",
            "description",
            "within_limits",
        ]

    def get_within_limits(self, mapping: SizeMapping) -> bool:
        return mapping.cloud.size_within_limits(mapping.size)


class ImageSerializer(serializers.ModelSerializer):
    clouds = serializers.SerializerMethodField(help_text="Clouds that map this image")

    class Meta:
        model = AbstractImage
        fields = ["name", "description", "clouds"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_clouds(self, image: AbstractImage) -> list[str]:
        return sorted(mapping.cloud.name for mapping in image.mappings.all())


class CloudImageSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="image.name")
    description = serializers.CharField(source="image.description")

    class Meta:
        model = ImageMapping
        fields = ["name", "provider_image_id", "description"]


class SubnetSerializer(serializers.ModelSerializer):
    clouds = serializers.SerializerMethodField(help_text="Clouds that map this subnet")

    class Meta:
        model = AbstractSubnet
        fields = ["name", "description", "clouds"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_clouds(self, subnet: AbstractSubnet) -> list[str]:
        return sorted(mapping.cloud.name for mapping in subnet.mappings.all())


class CloudSubnetSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="subnet.name")
    description = serializers.CharField(source="subnet.description")

    class Meta:
        model = SubnetMapping
        fields = ["name", "provider_subnet_id", "description"]


@extend_schema_field({"type": "string", "nullable": True, "example": "P7DT00H00M00S"})
class IsoDurationField(serializers.Field):
    """A lease policy's duration, as ISO 8601 (what a create's `lease` takes); null: none."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return duration_iso_string(value) if value is not None else None


LEASE_HELP = {
    "default_lease": "The lease of a create that names none (ISO 8601); null: none",
    "max_lease": "The longest lease allowed (ISO 8601); null: no maximum",
}


class RoleSerializer(serializers.ModelSerializer):
    allowed_sizes = serializers.SlugRelatedField(
        many=True, slug_field="name", read_only=True, help_text="Empty: every size"
    )
    allowed_images = serializers.SlugRelatedField(
        many=True, slug_field="name", read_only=True, help_text="Empty: every image"
    )
    allowed_subnets = serializers.SlugRelatedField(
        many=True, slug_field="name", read_only=True, help_text="Empty: every subnet"
    )
    default_size = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    default_image = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    default_subnet = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True
    )
    default_lease = IsoDurationField(help_text=LEASE_HELP["default_lease"])
    max_lease = IsoDurationField(help_text=LEASE_HELP["max_lease"])

    class Meta:
        model = Role
        fields = [
            "name",
            "description",
            "allowed_sizes",
            "allowed_images",
            "allowed_subnets",
            "default_size",
            "default_image",
            "default_subnet",
            "spread_over_hosts",
            "default_lease",
            "max_lease",
        ]


class EnvironmentSerializer(serializers.ModelSerializer):
    default_lease = IsoDurationField(help_text=LEASE_HELP["default_lease"])
    max_lease = IsoDurationField(help_text=LEASE_HELP["max_lease"])

    class Meta:
        model = Environment
        fields = ["name", "description", "default_lease", "max_lease"]
