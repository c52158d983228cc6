"""POST /pcm_api/v2/clouds/{cloud}/instances: checks before the 202, then the worker."""

from __future__ import annotations

import pytest

from clouds.models import Cloud
from clouds.services import provider_for
from instances.models import Instance
from providers.inventory.models import SystemRecord

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def test_a_create_is_accepted_with_a_name_and_ends_running_at_the_provider(client_api, aws, worker):
    response = client_api.post(URL, {"size": "small", "role": "web"})

    assert response.status_code == 202
    body = response.json()
    assert body["name"] == "dev-web-001"
    assert body["status"] == "pending"
    assert (body["size"], body["image"], body["environment"], body["role"]) == (
        "small",
        "centos-9",
        "dev",
        "web",
    )
    assert body["provider_id"] is None
    assert response["Location"].endswith(f"/pcm_api/v2/clouds/AWSLAB-1/instances/{body['id']}")

    worker.run()

    instance = client_api.get(response["Location"]).json()
    assert instance["status"] == "running"
    assert instance["provider_status"] == "running"
    node = provider_for(aws).get(instance["provider_id"])
    assert node.name == "dev-web-001" and node.pcm_id == body["id"]
    record = SystemRecord.objects.get(cloud="AWSLAB-1", name="dev-web-001")
    assert record.state == "registered" and record.provider_id == instance["provider_id"]
    events = client_api.get(f"{response['Location']}/events").json()["results"]
    assert [(e["action"], e["outcome"], e["actor"]) for e in events] == [
        ("create", "succeeded", "bob")
    ]
    assert events[0]["request_id"] == response["X-Request-ID"]


def test_names_follow_the_template_per_role_and_environment(client_api, aws):
    names = [
        client_api.post(URL, body).json()["name"]
        for body in (
            {"role": "web"},
            {"role": "web"},
            {"role": "db", "size": "medium"},
            {"environment": "prod", "size": "small"},
        )
    ]

    assert names == ["dev-web-001", "dev-web-002", "dev-db-001", "prod-node-001"]


def test_defaults_come_from_the_role_then_the_cloud(client_api, aws):
    body = client_api.post(URL, {"role": "web"}).json()

    assert (body["size"], body["image"], body["environment"]) == ("small", "centos-9", "dev")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"size": "huge"}, "Size huge does not exist; accepted: medium, small, xlarge"),
        ({"size": "small", "image": "windows"}, "Image windows does not exist; accepted: centos-9"),
        ({"size": "small", "role": "cache"}, "Role cache does not exist; accepted: db, web"),
        (
            {"size": "xlarge", "role": "web"},
            "Role web does not allow size xlarge; allowed: medium, small",
        ),
        (
            {"size": "small", "environment": "qa"},
            "Environment qa does not exist; accepted: dev, prod",
        ),
        ({"size": "small", "subnet": "net-1"}, "Subnet net-1 does not exist; accepted: none"),
        ({"size": "small", "status": "running"}, "Unknown field(s) status; accepted: size, image"),
        (
            {"size": "small", "extra": {"ec2": {"flavour": 1}}},
            "extra.ec2: Unknown extra option(s) flavour; accepted:",
        ),
        ({"size": "small", "extra": ["x"]}, "extra must be an object keyed by provider type"),
        ({}, "size is required"),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_accepted(client_api, aws, payload, message):
    aws.default_size = None
    aws.save()

    response = client_api.post(URL, payload)

    assert response.status_code == 400, response.json()
    assert message in response.json()["message"]
    assert not Instance.objects.exists()
    assert not SystemRecord.objects.exists()


def test_a_size_not_mapped_in_the_cloud_is_refused(client_api, aws, catalogue):
    from tests.factories import AbstractSizeFactory

    AbstractSizeFactory(name="tiny", vcpus=1, ram_mb=512, disk_gb=10)

    response = client_api.post(URL, {"size": "tiny"})

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Size tiny is not offered by cloud AWSLAB-1; accepted: medium, small, xlarge"
    )


def test_extra_for_other_provider_types_is_ignored_and_ours_is_applied(client_api, aws, worker):
    provider_for(aws).driver.create_key_pair("deploy")
    extra = {"openstack": {"anything": 1}, "ec2": {"keyname": "deploy"}}

    body = client_api.post(URL, {"size": "small", "extra": extra}).json()
    worker.run()

    assert body["extra"] == {"keyname": "deploy"}
    node = provider_for(aws).driver.list_nodes()[0]
    assert node.extra["key_name"] == "deploy"


def test_a_disabled_cloud_is_a_503(client_api, aws):
    aws.enabled = False
    aws.save()

    response = client_api.post(URL, {"size": "small"})

    assert response.status_code == 503
    assert response.json() == {"error": "503", "message": "Cloud AWSLAB-1 is disabled"}


def test_an_unknown_cloud_is_a_404(client_api, aws):
    response = client_api.post("/pcm_api/v2/clouds/NOPE/instances", {"size": "small"})

    assert response.status_code == 404
    assert response.json()["message"] == "Cloud NOPE does not exist"


def test_a_size_above_the_per_instance_limit_is_a_507(client_api, aws):
    response = client_api.post(URL, {"size": "xlarge"})

    assert response.status_code == 507
    body = response.json()
    assert body["message"] == "Requested instance of size xlarge exceeds limits for cloud AWSLAB-1"
    assert body["details"]["limits"]["vcpus"] == 8
    assert not Instance.objects.exists() and not SystemRecord.objects.exists()


def test_a_quota_that_would_be_exceeded_is_a_507_with_usage_and_limit(client_api, aws):
    aws.quota_instances = 2
    aws.save()
    client_api.post(URL, {"size": "small"})
    client_api.post(URL, {"size": "small"})

    response = client_api.post(URL, {"size": "small"})

    assert response.status_code == 507
    body = response.json()
    assert "instances quota of cloud AWSLAB-1: 2 of 2 in use" in body["message"]
    assert body["details"]["usage"]["instances"] == 2 and body["details"]["limit"] == 2
    assert Instance.objects.count() == 2
    assert SystemRecord.objects.count() == 2  # the third name was released


def test_vcpu_quota_counts_sizes(client_api, aws):
    aws.quota_vcpus = 3
    aws.save()

    first = client_api.post(URL, {"size": "medium"})
    second = client_api.post(URL, {"size": "medium"})

    assert first.status_code == 202
    assert second.status_code == 507
    assert second.json()["details"]["usage"]["vcpus"] == 2


def test_a_cloud_found_down_by_its_last_check_refuses_creates(client_api, aws):
    from django.utils import timezone

    Cloud.objects.filter(pk=aws.pk).update(
        last_check_ok=False, last_check_at=timezone.now(), last_check_error="boom"
    )

    response = client_api.post(URL, {"size": "small"})

    assert response.status_code == 503
    assert "cannot be reached" in response.json()["message"]


def test_a_body_that_is_not_an_object_is_a_400(client_api, aws):
    response = client_api.post(URL, ["size", "small"])

    assert response.status_code == 400
    assert response.json()["message"] == "The request body must be a JSON object"
