"""What the webhook API shows and takes: never the secret."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers

from clouds.models import Cloud
from pcm.errors import BadRequest
from webhooks.models import Subscription


class StrictBooleanField(serializers.BooleanField):
    """true or false, as the schema says: not 0, 1, "yes" or "on"."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class SubscriptionSerializer(serializers.ModelSerializer):
    enabled = StrictBooleanField(required=False, help_text="False: nothing is sent to it")
    secret = serializers.CharField(
        write_only=True,
        min_length=16,
        max_length=200,
        trim_whitespace=False,
        help_text="The key that signs each delivery (PCM-Signature); write-only",
    )
    event_types = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The event types to receive (empty: all)",
    )
    clouds = serializers.SlugRelatedField(
        many=True,
        slug_field="name",
        queryset=Cloud.objects.all(),
        required=False,
        help_text="The clouds to hear of, by name (empty: all)",
    )
    outbound_allow = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Address ranges the URL may be at besides public ones: private, loopback, "
        "link-local",
    )

    class Meta:
        model = Subscription
        fields = [
            "name",
            "url",
            "secret",
            "event_types",
            "clouds",
            "enabled",
            "outbound_allow",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def to_internal_value(self, data):
        # As everywhere in PCM, a field the API does not take is an error, never ignored.
        if isinstance(data, dict):
            accepted = [name for name, field in self.fields.items() if not field.read_only]
            unknown = sorted(set(data) - set(accepted))
            if unknown:
                raise BadRequest(
                    f"Unknown field(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
                )
            # DRF would take an object's keys for a list, and a number for a string.
            if "clouds" in data and not isinstance(data["clouds"], list):
                raise BadRequest("clouds must be a list of cloud names")
            for name, field in self.fields.items():
                given = data.get(name)
                text = isinstance(field, serializers.CharField)
                if text and given is not None and not isinstance(given, str):
                    raise BadRequest(f"{name} must be a string")
        return super().to_internal_value(data)

    def validate(self, attrs):
        if self.instance is None and not attrs.get("secret"):
            raise serializers.ValidationError({"secret": "A secret is required"})
        # The model's own checks (the URL's address under outbound_allow), as in the admin.
        checked = ("url", "event_types", "outbound_allow")
        probe = Subscription(
            **{
                field: attrs[field] if field in attrs else getattr(self.instance, field)
                for field in checked
                if field in attrs or self.instance is not None
            }
        )
        try:
            probe.clean()
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs

    def create(self, validated_data):
        secret = validated_data.pop("secret")
        clouds = validated_data.pop("clouds", [])
        subscription = Subscription(**validated_data)
        subscription.secret = secret
        subscription.save()
        subscription.clouds.set(clouds)
        return subscription

    def update(self, instance, validated_data):
        secret = validated_data.pop("secret", None)
        if secret:
            instance.secret = secret
        clouds = validated_data.pop("clouds", None)
        for field, value in validated_data.items():
            setattr(instance, field, value)
        instance.save()
        if clouds is not None:
            instance.clouds.set(clouds)
        return instance


class SubscriptionPatchSerializer(SubscriptionSerializer):
    """A PATCH's body: the same fields, each optional (the ones not given are kept)."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields
