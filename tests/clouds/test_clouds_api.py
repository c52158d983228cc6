"""GET /pcm_api/v2/clouds and /clouds/{cloud}, and their aliases."""

from __future__ import annotations

import json

import pytest

from tests.factories import AbstractSizeFactory, CloudFactory, EnvironmentFactory

pytestmark = pytest.mark.django_db

SECRET = "PLANTED-SECRET-9f1c2e"


def test_it_lists_clouds_with_status_limits_and_quotas(api):
    CloudFactory(name="AWSLAB-1", max_vcpus=8, quota_instances=10)
    CloudFactory(name="SNV-LAB-1", enabled=False)

    response = api.get("/pcm_api/v2/clouds")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert [first["name"], second["name"]] == ["AWSLAB-1", "SNV-LAB-1"]
    assert first["limits"] == {"vcpus": 8, "ram_mb": None, "disk_gb": None}
    assert first["quotas"] == {"instances": 10, "vcpus": None, "ram_mb": None}
    assert first["status"] == {
        "enabled": True,
        "reachable": None,
        "last_check": None,
        "latency_ms": None,
        "last_error": "",
        "capabilities": [
            "console_log",
            "create",
            "destroy",
            "list_images",
            "list_locations",
            "list_sizes",
            "list_subnets",
            "provider_tags",
            "reboot",
            "start",
            "stop",
            "subnets",
            "user_data",
        ],
    }
    assert second["enabled"] is False


def test_it_shows_one_cloud_with_its_defaults(api):
    CloudFactory(
        name="SNV-LAB-1",
        provider="openstack",
        options={"auth_url": "http://keystone.example:5000", "region": "RegionOne"},
        credentials={"username": "pcm", "password": SECRET},
        max_ram_mb=16384,
        quota_vcpus=64,
        default_environment=EnvironmentFactory(name="dev"),
        default_size=AbstractSizeFactory(name="small"),
    )

    response = api.get("/pcm_api/v2/clouds/SNV-LAB-1")

    assert response.status_code == 200
    cloud = response.json()
    assert cloud["provider"] == "openstack"
    assert cloud["options"] == {"auth_url": "http://keystone.example:5000", "region": "RegionOne"}
    assert cloud["limits"]["ram_mb"] == 16384
    assert cloud["quotas"]["vcpus"] == 64
    assert cloud["defaults"] == {
        "environment": "dev",
        "size": "small",
        "image": None,
        "subnet": None,
    }


@pytest.mark.parametrize(
    "path",
    ["/pcm_api/v2/clouds", "/pcm_api/v2/clouds/LAB-SECRET", "/pcm_api/v2/cloud/LAB-SECRET"],
)
def test_it_never_shows_credentials(api, path):
    cloud = CloudFactory(
        name="LAB-SECRET", credentials={"access_key": "AKIA", "secret_key": SECRET}
    )

    response = api.get(path)

    assert response.status_code == 200
    text = response.content.decode()
    assert SECRET not in text
    assert cloud.credentials_encrypted not in text
    assert "credentials" not in text
    assert "secret_key" not in text


def test_an_unknown_cloud_is_a_404_that_names_it(api):
    response = api.get("/pcm_api/v2/clouds/NOPE-1")

    assert response.status_code == 404
    assert response.json() == {"error": "404", "message": "Cloud NOPE-1 does not exist"}


@pytest.mark.parametrize(
    "path",
    [
        "/pcm_api/v2/cloud/AWSLAB-1",
        "/pcm_api/v2/locations/AWSLAB-1",
        "/pcm_api/v2/clouds/AWSLAB-1/",
        "/pcm_api/v2/locations/AWSLAB-1/",
    ],
)
def test_aliases_answer_like_the_canonical_path(api, path):
    CloudFactory(name="AWSLAB-1", max_vcpus=4)

    canonical = api.get("/pcm_api/v2/clouds/AWSLAB-1")
    alias = api.get(path)

    assert alias.status_code == 200
    assert json.loads(alias.content) == json.loads(canonical.content)


def test_an_alias_to_an_unknown_cloud_is_a_404_too(api):
    response = api.get("/pcm_api/v2/locations/NOPE-1/sizes")

    assert response.status_code == 404
    assert response.json()["message"] == "Cloud NOPE-1 does not exist"


def test_the_list_is_paginated(api):
    for n in range(7):
        CloudFactory(name=f"PAGE-{n}")

    first = api.get("/pcm_api/v2/clouds", {"page_size": 3}).json()
    third = api.get("/pcm_api/v2/clouds", {"page_size": 3, "page": 3}).json()

    assert first["count"] == 7
    assert [c["name"] for c in first["results"]] == ["PAGE-0", "PAGE-1", "PAGE-2"]
    assert first["next"] is not None and first["previous"] is None
    assert [c["name"] for c in third["results"]] == ["PAGE-6"]
    assert third["next"] is None


def test_a_page_past_the_end_is_a_404_in_the_error_format(api):
    CloudFactory()

    response = api.get("/pcm_api/v2/clouds", {"page": 9})

    assert response.status_code == 404
    assert response.json()["error"] == "404"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page_size": "abc"}, "page_size: must be a whole number from 1 to 500"),
        ({"page_size": "0"}, "page_size: must be a whole number from 1 to 500"),
        ({"page_size": "501"}, "page_size: must be a whole number from 1 to 500"),
        ({"page": ""}, "page: must be a whole number from 1"),
        ({"page": "-1"}, "page: must be a whole number from 1"),
        ({"page": "³"}, "page: must be a whole number from 1"),  # found by schemathesis
        ({"page_size": "²"}, "page_size: must be a whole number from 1 to 500"),
    ],
)
def test_bad_paging_is_a_400_not_ignored(api, params, message):
    CloudFactory()

    response = api.get("/pcm_api/v2/clouds", params)

    assert response.status_code == 400
    assert message in response.json()["message"]


def _instances(cloud, size, image, env, statuses):
    from instances.models import Instance

    for index, status in enumerate(statuses):
        Instance.objects.create(
            cloud=cloud,
            name=f"{cloud.name}-{size.name}-{index}",
            environment=env,
            size=size,
            image=image,
            status=status,
            provider_id=f"i-{cloud.name}-{size.name}-{index}",
        )


def test_clouds_show_what_their_live_instances_use_beside_limits_and_quotas(api):
    from tests.factories import AbstractImageFactory

    env, image = EnvironmentFactory(name="dev"), AbstractImageFactory(name="centos-9")
    small = AbstractSizeFactory(name="small", vcpus=1, ram_mb=2048)
    large = AbstractSizeFactory(name="large", vcpus=4, ram_mb=8192)
    busy = CloudFactory(name="AWSLAB-1", quota_instances=10)
    CloudFactory(name="SNV-LAB-1")
    _instances(busy, small, image, env, ["running", "stopped", "deleted"])
    _instances(busy, large, image, env, ["building"])

    listing = {c["name"]: c for c in api.get("/pcm_api/v2/clouds").json()["results"]}
    one = api.get("/pcm_api/v2/clouds/AWSLAB-1").json()

    # Deleted instances use nothing; every other status counts, as in the quota check.
    assert listing["AWSLAB-1"]["usage"] == {"instances": 3, "vcpus": 6, "ram_mb": 12288}
    assert listing["SNV-LAB-1"]["usage"] == {"instances": 0, "vcpus": 0, "ram_mb": 0}
    assert one["usage"] == listing["AWSLAB-1"]["usage"]
    assert one["quotas"]["instances"] == 10


def test_a_page_of_clouds_costs_the_same_queries_however_many_clouds_it_shows(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import AbstractImageFactory

    env, image = EnvironmentFactory(name="dev"), AbstractImageFactory(name="centos-9")
    size = AbstractSizeFactory(name="small", vcpus=1, ram_mb=2048)

    def queries_for_the_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/pcm_api/v2/clouds").status_code == 200
        return len(queries)

    _instances(CloudFactory(), size, image, env, ["running", "running"])
    with_one = queries_for_the_page()
    for _ in range(7):
        _instances(CloudFactory(), size, image, env, ["running", "running"])
    with_eight = queries_for_the_page()

    assert with_one == with_eight
