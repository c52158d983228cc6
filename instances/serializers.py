"""What the instance API shows and takes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from instances.choices import ACTIONS
from instances.models import Instance, InstanceEvent, Orphan
from providers import registry


def shown_extra(extra: dict | None, declared: dict) -> dict:
    """An instance's `extra` without a member its plugin calls sensitive (PCM keeps those
    apart, encrypted; a row older than that may still hold one). `declared`: the plugin's
    extra_types (extra_types_of)."""
    return {
        key: value
        for key, value in (extra or {}).items()
        if not getattr(declared.get(key.removeprefix("ex_")), "sensitive", True)
    }


def extra_types_of(provider: str) -> dict:
    """A plugin's declared extra parameters ({} for a plugin that is not installed: then
    nothing of `extra` is shown). The declarations alone, no driver introspection."""
    try:
        return registry.get(provider).extra_types
    except registry.UnknownProvider:
        return {}


class InstanceSerializer(serializers.ModelSerializer):
    """An instance: what was asked (abstract names), what the provider says."""

    cloud = serializers.CharField(source="cloud.name")
    role = serializers.CharField(source="role.name", allow_null=True)
    environment = serializers.CharField(source="environment.name")
    size = serializers.CharField(source="size.name")
    image = serializers.CharField(source="image.name")
    subnet = serializers.CharField(
        source="subnet.name",
        allow_null=True,
        help_text="An abstract subnet; null: the cloud's own default network",
    )
    ssh_keys = serializers.ListField(child=serializers.CharField(), help_text="OpenSSH public keys")
    tags = serializers.DictField(child=serializers.CharField(), help_text="The client's tags")
    user_data_sha256 = serializers.CharField(
        allow_null=True,
        help_text="SHA-256 (hex) of the user data the client gave; the user data itself is "
        "never shown",
    )
    user_data_size = serializers.IntegerField(
        allow_null=True, help_text="Size in bytes of the user data the client gave"
    )
    provider_id = serializers.SerializerMethodField(
        help_text="The cloud's id of the instance, once the cloud has given one"
    )
    provider_status = serializers.CharField(
        source="raw_status", help_text="The cloud's own word for the status"
    )
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the lease ends and PCM deletes the instance; null: no expiry",
    )

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
            "subnet",
            "status",
            "provider_status",
            "provider_id",
            "public_ips",
            "private_ips",
            "ssh_keys",
            "tags",
            "user_data_sha256",
            "user_data_size",
            "extra",
            "last_error",
            "created_by",
            "created_at",
            "updated_at",
            "expires_at",
        ]
        read_only_fields = fields

    # The columns an instance is shown with, its relations' by Django's lookup names: a read
    # loads only these (fewer columns for Django to compile and fetch), and a list loads
    # them as plain rows (`values()`: no model objects to build, eight per row).
    READS = (
        *("id", "name", "status", "raw_status", "provider_id", "public_ips", "private_ips"),
        *("ssh_keys", "tags", "user_data_sha256", "user_data_size", "extra", "last_error"),
        *("created_at", "updated_at", "expires_at", "cloud__name", "cloud__provider"),
        *("role__name", "environment__name", "size__name", "image__name", "subnet__name"),
        "created_by__username",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._extra_types: dict[str, dict] = {}

    def get_provider_id(self, instance: Instance) -> str | None:
        return instance.provider_id or None

    def to_representation(self, instance: Instance | dict) -> dict:
        """What the fields above show, built directly from an instance or from a row of
        `values(*READS)`: this is the API's hottest path, and DRF's field machinery (a deep
        copy of the fields per serializer, then a lookup per field) cost more than the
        query (docs/performance.md). The fields stay declared for the schema;
        tests/instances/test_serializer.py holds the output equal to theirs."""
        row = instance if isinstance(instance, dict) else row_of(instance)
        provider = row["cloud__provider"]
        if provider not in self._extra_types:  # once per provider, not per row of a list
            self._extra_types[provider] = extra_types_of(provider)
        return {
            "id": str(row["id"]),
            "name": row["name"],
            "cloud": row["cloud__name"],
            "role": row["role__name"],
            "environment": row["environment__name"],
            "size": row["size__name"],
            "image": row["image__name"],
            "subnet": row["subnet__name"],
            "status": str(row["status"]),
            "provider_status": row["raw_status"],
            "provider_id": row["provider_id"] or None,
            "public_ips": row["public_ips"],
            "private_ips": row["private_ips"],
            "ssh_keys": [str(key) for key in row["ssh_keys"]],
            "tags": {str(key): str(value) for key, value in row["tags"].items()},
            "user_data_sha256": row["user_data_sha256"] or None,
            "user_data_size": row["user_data_size"],
            "extra": shown_extra(row["extra"], self._extra_types[provider]),
            "last_error": row["last_error"],
            "created_by": row["created_by__username"],
            "created_at": _DATETIME.to_representation(row["created_at"]),
            "updated_at": _DATETIME.to_representation(row["updated_at"]),
            "expires_at": _DATETIME.to_representation(row["expires_at"]),
        }


def row_of(instance: Instance) -> dict:
    """The instance as a row of `values(*InstanceSerializer.READS)` would hold it (None
    through a relation it does not have)."""
    row = {}
    for name in InstanceSerializer.READS:
        value = instance
        for part in name.split("__"):
            value = getattr(value, part) if value is not None else None
        row[name] = value
    return row


# DRF's own rendering of a time (ISO 8601 in the current time zone, UTC as Z).
_DATETIME = serializers.DateTimeField()


@extend_schema_field(
    {"oneOf": [{"type": "string", "example": "PT8H"}, {"type": "integer", "minimum": 1}]}
)
class LeaseField(serializers.JSONField):
    """A lease: an ISO 8601 duration or seconds (checked by instances/leases.py)."""


class CreateSerializer(serializers.Serializer):
    """A create request. Omitted size, image and environment take the role's or the
    cloud's defaults."""

    size = serializers.CharField(required=False, allow_null=True, help_text="An abstract size")
    image = serializers.CharField(required=False, allow_null=True, help_text="An abstract image")
    subnet = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="An abstract subnet (GET /subnets); omitted: the role's or the cloud's "
        "default, else the cloud's own default network",
    )
    environment = serializers.CharField(required=False, allow_null=True)
    role = serializers.CharField(required=False, allow_null=True)
    ssh_keys = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        max_length=16,
        help_text="OpenSSH public keys (at most 16), delivered through cloud-init on every "
        "cloud that takes user data",
    )
    user_data = serializers.CharField(
        required=False,
        allow_null=True,
        write_only=True,
        help_text="cloud-init user data (#cloud-config or a script); at most 16 KiB with the "
        "SSH keys. Never shown again: reads show user_data_sha256 and user_data_size",
    )
    tags = serializers.DictField(
        child=serializers.CharField(max_length=256),
        required=False,
        allow_null=True,
        help_text="Up to 50 string tags (keys of at most 128 characters; pcm_id and pcm:... "
        "are reserved); on the cloud's own tags or metadata where it has them",
    )
    lease = LeaseField(
        required=False,
        allow_null=True,
        help_text='How long the instance may live: an ISO 8601 duration ("PT8H", "P3D"; no '
        "months or years) or a number of seconds; omitted: the role's or the environment's "
        "default lease. Above their maximum lease: 400. The response's expires_at says when",
    )
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


class PatchSerializer(serializers.Serializer):
    """A PATCH: an action (as PUT), new tags, or a new expiry (expires_at or lease): one."""

    status = serializers.ChoiceField(
        choices=list(ACTIONS),
        required=False,
        help_text="reboot reboots; stopped stops; running starts",
    )
    tags = serializers.DictField(
        child=serializers.CharField(max_length=256),
        required=False,
        help_text="The instance's tags from now on (replaces them all)",
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="A new end of the lease (ISO 8601 time), within the maximum lease counted "
        "from now; null: no expiry (only where no maximum applies)",
    )
    lease = LeaseField(
        required=False,
        allow_null=True,
        help_text="A new lease counted from now (as on create); null: no expiry",
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
