"""Authorization per cloud: every endpoint x {operator of this cloud, operator of another
cloud, read-only user, anonymous}. A cloud one may not see is a 404, never a 403."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from clouds.models import CloudAccess
from clouds.services import provider_for
from instances.models import Instance
from providers.base import CreateOptions
from tests.factories import (
    AbstractImageFactory,
    AbstractSizeFactory,
    CloudFactory,
    EnvironmentFactory,
    ImageMappingFactory,
    SizeMappingFactory,
    UserFactory,
    api_key,
)

pytestmark = pytest.mark.django_db

A = "/pcm_api/v2/clouds/LAB-A"
AMI = "ami-760aaa0f"


@pytest.fixture
def world(moto):
    env = EnvironmentFactory(name="dev")
    size, image = AbstractSizeFactory(name="small"), AbstractImageFactory(name="centos-9")
    # LAB-A is at moto with a real node, so that every allowed call really succeeds (the
    # console too): a refusal cannot hide behind a cloud that is not there.
    lab_a = CloudFactory(
        name="LAB-A",
        default_environment=env,
        options={"region": "us-east-1", "endpoint": moto.url, "timeout": 30},
    )
    node = provider_for(lab_a).create("existing-1", "t3.small", AMI, CreateOptions(pcm_id="x"))
    lab_b = CloudFactory(name="LAB-B", default_environment=env)
    for cloud in (lab_a, lab_b):
        SizeMappingFactory(cloud=cloud, size=size, provider_size_id="t3.small")
        ImageMappingFactory(cloud=cloud, image=image, provider_image_id="ami-1")
    instance = Instance.objects.create(
        cloud=lab_a,
        name="existing-1",
        environment=env,
        size=size,
        image=image,
        provider_size_id="t3.small",
        provider_image_id="ami-1",
        provider_id=node.provider_id,
        status="running",
    )
    users = {}
    for name, cloud, level in (
        ("carol", lab_a, "operate"),
        ("dan", lab_b, "operate"),
        ("erin", lab_a, "read"),
    ):
        group = Group.objects.create(name=f"{name}-group")
        CloudAccess.objects.create(group=group, cloud=cloud, level=level)
        users[name] = UserFactory(username=name)
        users[name].groups.add(group)
    return {"instance": instance, "users": users}


def client_for(world, who: str) -> APIClient:
    """A client of `who`; "carol:read-only" is carol with a read-only token."""
    client = APIClient()
    if who != "anonymous":
        user, _, scope = who.partition(":")
        key = api_key(world["users"][user], read_only=scope == "read-only")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


READ, OPERATE_READ, WRITE = "read", "operate-read", "write"


def endpoints(instance) -> list[tuple[str, str, dict | None, str]]:
    """(method, path, body, kind): a read, a read that calls the cloud or shows its console
    (operator access), or a write."""
    one = f"{A}/instances/{instance.pk}"
    return [
        ("get", A, None, READ),
        ("get", f"{A}/sizes", None, READ),
        ("get", f"{A}/images", None, READ),
        ("get", "/pcm_api/v2/locations/LAB-A/sizes", None, READ),
        ("get", f"{A}/instances", None, READ),
        ("get", one, None, READ),
        ("get", f"{one}/events", None, READ),
        ("get", f"{one}/console_log", None, OPERATE_READ),
        ("get", f"{one}?refresh=true", None, OPERATE_READ),
        ("post", f"{A}/instances", {"size": "small", "image": "centos-9"}, WRITE),
        ("put", one, {"status": "reboot"}, WRITE),
        ("patch", one, {"status": "stopped"}, WRITE),
        ("delete", one, None, WRITE),
    ]


MATRIX = {
    # who: status of (reads, operate-reads, writes); "allowed": 200 for a read, 202 for a write
    "carol": ("allowed", "allowed", "allowed"),
    "dan": (404, 404, 404),
    "erin": ("allowed", 403, 403),
    # An operator's read-only token reads, and touches the cloud no more than erin can.
    "carol:read-only": ("allowed", 403, 403),
    "anonymous": (401, 401, 401),
}


@pytest.mark.parametrize("who", list(MATRIX))
@pytest.mark.parametrize("index", range(13))
def test_the_matrix(world, who, index):
    method, path, body, kind = endpoints(world["instance"])[index]
    client = client_for(world, who)

    response = getattr(client, method)(path, body, format="json")

    expected = MATRIX[who][(READ, OPERATE_READ, WRITE).index(kind)]
    if expected == "allowed":
        assert response.status_code == (202 if kind == WRITE else 200), (path, response.content)
    else:
        assert response.status_code == expected, (path, response.content)
        assert response.json()["error"] == str(expected)
    if expected == 404:
        assert response.json()["message"] == "Cloud LAB-A does not exist"
    if expected == 403 and kind == OPERATE_READ:
        message = response.json()["message"]
        if who == "erin":
            assert "operator access is needed to" in message
        else:
            assert message.startswith("This API token is read-only: it may not ")


def test_lists_show_only_what_one_may_see(world):
    dan = client_for(world, "dan")

    clouds = [c["name"] for c in dan.get("/pcm_api/v2/clouds").json()["results"]]
    sizes = dan.get("/pcm_api/v2/sizes").json()["results"]
    instances = dan.get("/pcm_api/v2/instances").json()

    assert clouds == ["LAB-B"]
    assert sizes[0]["clouds"] == ["LAB-B"]
    assert instances["count"] == 0
    assert client_for(world, "carol").get("/pcm_api/v2/instances").json()["count"] == 1


def test_a_read_only_user_changes_nothing(world):
    erin = client_for(world, "erin")
    one = f"{A}/instances/{world['instance'].pk}"

    erin.post(f"{A}/instances", {"size": "small"}, format="json")
    erin.delete(one)
    response = erin.put(one, {"status": "reboot"}, format="json")

    assert response.json()["message"] == "You may only read cloud LAB-A"
    assert Instance.objects.count() == 1
    assert Instance.objects.get().status == "running"


def test_a_refresh_of_a_disabled_cloud_is_a_503_and_asks_nothing(world):
    carol = client_for(world, "carol")
    instance = world["instance"]
    instance.cloud.enabled = False
    instance.cloud.save()

    response = carol.get(f"{A}/instances/{instance.pk}?refresh=true")

    assert response.status_code == 503
    assert response.json()["message"] == "Cloud LAB-A is disabled: it is not asked"
    assert carol.get(f"{A}/instances/{instance.pk}").status_code == 200  # the record stays
