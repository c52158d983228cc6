"""GET /sizes, /images, /roles, /environments and the per-cloud size and image lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import (
    AbstractImageFactory,
    AbstractSizeFactory,
    CloudFactory,
    EnvironmentFactory,
    ImageMappingFactory,
    RoleFactory,
    SizeMappingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_clouds():
    aws = CloudFactory(name="AWSLAB-1", max_vcpus=8)
    snv = CloudFactory(name="SNV-LAB-1")
    small = AbstractSizeFactory(name="small", vcpus=1, ram_mb=2048, disk_gb=20)
    huge = AbstractSizeFactory(name="huge", vcpus=64, ram_mb=262144, disk_gb=1000)
    AbstractSizeFactory(name="unmapped", vcpus=3)
    SizeMappingFactory(cloud=aws, size=small, provider_size_id="t3.small")
    SizeMappingFactory(cloud=aws, size=huge, provider_size_id="x2iedn.16xlarge")
    SizeMappingFactory(cloud=snv, size=small, provider_size_id="m1.small")
    centos = AbstractImageFactory(name="centos-9")
    ImageMappingFactory(cloud=aws, image=centos, provider_image_id="ami-0abc")
    return aws, snv


def test_sizes_say_which_clouds_offer_each(api, two_clouds):
    response = api.get("/pcm_api/v2/sizes")

    assert response.status_code == 200
    sizes = {size["name"]: size for size in response.json()["results"]}
    assert sizes["small"] == {
        "name": "small",
        "vcpus": 1,
        "ram_mb": 2048,
        "disk_gb": 20,
        "description": "",
        "clouds": ["AWSLAB-1", "SNV-LAB-1"],
    }
    assert sizes["huge"]["clouds"] == ["AWSLAB-1"]
    assert sizes["unmapped"]["clouds"] == []


def test_a_cloud_lists_its_own_size_ids_and_flags_sizes_above_its_limits(api, two_clouds):
    response = api.get("/pcm_api/v2/clouds/AWSLAB-1/sizes")

    assert response.status_code == 200
    sizes = response.json()["results"]
    assert [(s["name"], s["provider_size_id"]) for s in sizes] == [
        ("small", "t3.small"),
        ("huge", "x2iedn.16xlarge"),
    ]
    assert sizes[0]["vcpus"] == 1 and sizes[0]["ram_mb"] == 2048 and sizes[0]["disk_gb"] == 20
    assert [s["within_limits"] for s in sizes] == [True, False]


def test_images_and_a_clouds_images(api, two_clouds):
    images = api.get("/pcm_api/v2/images").json()["results"]
    aws = api.get("/pcm_api/v2/clouds/AWSLAB-1/images").json()["results"]
    snv = api.get("/pcm_api/v2/clouds/SNV-LAB-1/images").json()["results"]

    assert images == [{"name": "centos-9", "description": "", "clouds": ["AWSLAB-1"]}]
    assert aws == [{"name": "centos-9", "provider_image_id": "ami-0abc", "description": ""}]
    assert snv == []


def test_one_size_by_name_and_an_unknown_one(api, two_clouds):
    assert api.get("/pcm_api/v2/sizes/small").json()["vcpus"] == 1

    response = api.get("/pcm_api/v2/sizes/gigantic")

    assert response.status_code == 404
    assert response.json() == {"error": "404", "message": "Size gigantic does not exist"}


def test_roles_show_their_policy(api):
    small = AbstractSizeFactory(name="small", vcpus=1)
    medium = AbstractSizeFactory(name="medium", vcpus=2)
    centos = AbstractImageFactory(name="centos-9")
    RoleFactory(
        name="web",
        allowed_sizes=[small, medium],
        allowed_images=[centos],
        default_size=small,
        default_image=centos,
        spread_over_hosts=True,
    )
    RoleFactory(name="any")

    response = api.get("/pcm_api/v2/roles")

    assert response.status_code == 200
    roles = {role["name"]: role for role in response.json()["results"]}
    assert roles["web"] == {
        "name": "web",
        "description": "",
        "allowed_sizes": ["small", "medium"],
        "allowed_images": ["centos-9"],
        "allowed_subnets": [],
        "default_size": "small",
        "default_image": "centos-9",
        "default_subnet": None,
        "spread_over_hosts": True,
        "default_lease": None,
        "max_lease": None,
    }
    assert roles["any"]["allowed_sizes"] == [] and roles["any"]["default_size"] is None


def test_environments(api):
    EnvironmentFactory(name="prod", description="Production")
    EnvironmentFactory(
        name="dev", default_lease=timedelta(hours=8), max_lease=timedelta(days=7, minutes=30)
    )

    response = api.get("/pcm_api/v2/environments")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "name": "dev",
            "description": "",
            "default_lease": "P0DT08H00M00S",
            "max_lease": "P7DT00H30M00S",
        },
        {"name": "prod", "description": "Production", "default_lease": None, "max_lease": None},
    ]
    assert api.get("/pcm_api/v2/environments/nope").json()["message"] == (
        "Environment nope does not exist"
    )


def test_the_demo_configuration_is_served(api, demo):
    clouds = [c["name"] for c in api.get("/pcm_api/v2/clouds").json()["results"]]
    sizes = api.get("/pcm_api/v2/clouds/AWSLAB-1/sizes").json()["results"]
    roles = [r["name"] for r in api.get("/pcm_api/v2/roles").json()["results"]]
    environments = [e["name"] for e in api.get("/pcm_api/v2/environments").json()["results"]]

    assert clouds == ["AWSLAB-1", "SNV-LAB-1"]
    assert {"small", "medium", "large"} <= {s["name"] for s in sizes}
    assert any(not s["within_limits"] for s in sizes), "one size must exceed the limits"
    assert roles == ["db", "web"]
    assert environments == ["dev", "prod", "staging"]
