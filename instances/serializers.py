"""What the instance API shows and takes."""

from __future__ import annotations

from rest_framework import serializers

from instances.choices import ACTIONS
from instances.models import Instance, InstanceEvent, Orphan


class InstanceSerializer(serializers.ModelSerializer):
    """An instance: what was asked (abstract names), what the provider says."""

    cloud = serializers.CharField(source="cloud.name")
    role = serializers.CharField(source="role.name", allow_null=True)
    environment = serializers.CharField(source="environment.name")
    size = serializers.CharField(source="size.name")
    image = serializers.CharField(source="image.name")
    provider_id = serializers.SerializerMethodField(
        help_text="The cloud's id of the instance, once the cloud has given one"
    )
    provider_status = serializers.CharField(
        source="raw_status", help_text="The cloud's own word for the status"
    )
    created_by = serializers.CharField(source="created_by.username", allow_null=True)

    class Meta:
        model = Instance
        fields = [
            "id",
            "name",
            "cloud",
            "role",
            "environment",
            "size",
            "image",
            "status",
            "provider_status",
            "provider_id",
            "public_ips",
            "private_ips",
            "extra",
            "last_error",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_provider_id(self, instance: Instance) -> str | None:
        return instance.provider_id or None


class CreateSerializer(serializers.Serializer):
    """A create request. Omitted size, image and environment take the role's or the
    cloud's defaults."""

    size = serializers.CharField(required=False, allow_null=True, help_text="An abstract size")
    image = serializers.CharField(required=False, allow_null=True, help_text="An abstract image")
    environment = serializers.CharField(required=False, allow_null=True)
    role = serializers.CharField(required=False, allow_null=True)
    extra = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        allow_null=True,
        help_text='Keyed by provider type: {"openstack": {"os_scheduler_hints": {...}}}',
    )


class ActionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=list(ACTIONS),
        help_text="reboot reboots; stopped stops; running starts",
    )


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = InstanceEvent
        fields = [
            "action",
            "actor",
            "request_id",
            "started_at",
            "finished_at",
            "outcome",
            "error",
            "detail",
        ]
        read_only_fields = fields


class OrphanSerializer(serializers.ModelSerializer):
    """A live node at the cloud that carries a PCM id but is no live instance's node."""

    reason = serializers.CharField(help_text="unknown, deleted or duplicate")
    reason_text = serializers.CharField(source="get_reason_display")
    instance = serializers.UUIDField(
        source="instance_id", allow_null=True, help_text="The instance whose id it carries"
    )
    provider_status = serializers.CharField(source="raw_status")

    class Meta:
        model = Orphan
        fields = [
            "provider_id",
            "name",
            "pcm_id",
            "provider_status",
            "reason",
            "reason_text",
            "instance",
            "first_seen",
            "last_seen",
        ]
        read_only_fields = fields
