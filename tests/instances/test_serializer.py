"""An instance as the API shows it: the direct path equals what DRF's fields would show,
from a model instance (a read) and from a row of values() (a list) alike."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from instances.models import Instance
from instances.serializers import InstanceSerializer, extra_types_of, shown_extra
from providers.status import Status
from tests.factories import AbstractSubnetFactory, CloudFactory, RoleFactory, UserFactory
from tests.lifecycle import catalogue  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def shown(instance: Instance) -> tuple[str, str, str]:
    """The serializer's output, the same from the instance's row as a list loads it, and
    what DRF's declared fields make of the instance (with the two adjustments PCM makes to
    them: an empty hash is null, `extra` filtered)."""
    serializer = InstanceSerializer(instance)
    by_fields = serializers.ModelSerializer.to_representation(serializer, instance)
    by_fields["user_data_sha256"] = by_fields["user_data_sha256"] or None
    by_fields["extra"] = shown_extra(instance.extra, extra_types_of(instance.cloud.provider))
    direct = json.dumps(serializer.to_representation(instance), sort_keys=True)
    row = Instance.objects.values(*InstanceSerializer.READS).get(pk=instance.pk)
    from_row = json.dumps(InstanceSerializer().to_representation(row), sort_keys=True)
    return direct, from_row, json.dumps(by_fields, sort_keys=True)


def bare(cloud, catalogue) -> Instance:  # noqa: F811
    return Instance.objects.create(
        id=uuid.uuid4(),
        cloud=cloud,
        name=f"node-{uuid.uuid4().hex[:6]}",
        environment=catalogue["dev"],
        size=catalogue["sizes"]["small"],
        image=catalogue["images"]["centos-9"],
    )


def test_a_bare_instance_is_shown_alike_both_ways(catalogue):  # noqa: F811
    instance = bare(CloudFactory(), catalogue)
    instance = Instance.objects.get(pk=instance.pk)  # as a read loads it

    direct, from_row, fields = shown(instance)

    assert direct == from_row == fields
    assert json.loads(direct)["role"] is None
    assert json.loads(direct)["expires_at"] is None


def test_an_instance_with_everything_set_is_shown_alike_both_ways(catalogue):  # noqa: F811
    cloud = CloudFactory()
    instance = bare(cloud, catalogue)
    instance.role = RoleFactory(name="db")
    instance.subnet = AbstractSubnetFactory(name="backend")
    instance.created_by = UserFactory(username="carol")
    instance.ssh_keys = ["ssh-ed25519 AAAA carol@example"]
    instance.tags = {"team": "blue", "cost": "42"}
    instance.public_ips, instance.private_ips = ["198.51.100.7"], ["10.0.0.7"]
    # One member the EC2 plugin declares sensitive (hidden) and one it does not.
    instance.extra = {"ex_userdata": "secret", "ex_keyname": "carol"}
    instance.user_data_sha256, instance.user_data_size = "ab" * 32, 120
    instance.provider_id, instance.raw_status = "i-0123", "pending"
    instance.last_error = "a transient failure"
    instance.expires_at = timezone.now() + timedelta(hours=8, microseconds=1)
    instance.set_status(Status.BUILDING)  # an enum in memory, as a worker leaves it
    instance.save()

    for one in (instance, Instance.objects.get(pk=instance.pk)):
        direct, from_row, fields = shown(one)
        assert direct == from_row == fields
    data = json.loads(direct)
    assert data["extra"] == {"ex_keyname": "carol"}
    assert data["status"] == "building"
    assert data["created_by"] == "carol"
    assert data["expires_at"].endswith("Z")
