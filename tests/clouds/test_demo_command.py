"""`manage.py pcm_demo`, as `make run` calls it: demo configuration and admin, once."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from clouds.models import AbstractSize, Cloud, Environment, Role

pytestmark = pytest.mark.django_db


def demo() -> str:
    out = io.StringIO()
    call_command("pcm_demo", stdout=out)
    return out.getvalue()


def test_it_loads_the_demo_configuration_and_creates_the_admin():
    output = demo()

    assert set(Cloud.objects.values_list("name", flat=True)) == {"AWSLAB-1", "SNV-LAB-1"}
    assert {"small", "medium", "large"} <= set(AbstractSize.objects.values_list("name", flat=True))
    assert set(Role.objects.values_list("name", flat=True)) == {"web", "db"}
    assert set(Environment.objects.values_list("name", flat=True)) == {"dev", "staging", "prod"}
    for cloud in Cloud.objects.all():
        cloud.full_clean()
        assert cloud.plugin.validate_credentials(cloud.credentials)
        too_big = [s for s in AbstractSize.objects.all() if not cloud.size_within_limits(s)]
        assert too_big, f"{cloud} needs a size above its limits to show a 507"
    password = re.search(r"password: (\S+)", output).group(1)
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_running_it_again_keeps_the_data_and_the_password():
    password = re.search(r"password: (\S+)", demo()).group(1)
    Cloud.objects.filter(name="AWSLAB-1").update(max_vcpus=2)
    Cloud.objects.filter(name="SNV-LAB-1").delete()

    output = demo()

    assert "password:" not in output
    assert Cloud.objects.get(name="AWSLAB-1").max_vcpus == 2
    assert not Cloud.objects.filter(name="SNV-LAB-1").exists()
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_each_run_prints_a_fresh_working_token_and_revokes_the_previous_one():
    from rest_framework.test import APIClient

    from pcm.models import ApiToken

    def works(key: str) -> bool:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client.get("/pcm_api/v2/clouds").status_code == 200

    first = re.search(r"^API token of 'admin': ([0-9a-f]{64})$", demo(), re.M).group(1)
    second = re.search(r"^API token of 'admin': ([0-9a-f]{64})$", demo(), re.M).group(1)

    assert first != second
    assert works(second) and not works(first)
    assert ApiToken.objects.filter(user__username="admin").count() == 1


def test_the_demo_mappings_exist_at_the_peers_the_demo_clouds_point_to(moto, mimic):
    from clouds.models import ImageMapping, SizeMapping, SubnetMapping
    from clouds.services import MappingCheck

    demo()
    # The test's peers, not the ports the demo uses.
    Cloud.objects.filter(name="AWSLAB-1").update(
        options={"region": "us-east-1", "endpoint": moto.url}
    )
    Cloud.objects.filter(name="SNV-LAB-1").update(
        options={**mimic.options()[0], "tenant_name": "demo"}
    )
    out = io.StringIO()
    call_command("pcm_demo", "--map-peer-ids", "--check-clouds", stdout=out)

    # --check-clouds: the first page a newcomer opens knows the clouds and their mappings.
    for cloud in Cloud.objects.all():
        assert cloud.last_check_ok is True, cloud.last_check_error
        assert cloud.catalogue.filter(kind="size").exists()
        found = [m.found_at_provider for m in cloud.size_mappings.all()]
        found += [m.found_at_provider for m in cloud.image_mappings.all()]
        assert found and all(found), (cloud.name, found)
        assert f"{cloud.name} answers in" in out.getvalue()
    check = MappingCheck()
    for cloud in Cloud.objects.all():
        for mapping in SizeMapping.objects.filter(cloud=cloud):
            assert check.size_exists(cloud, mapping.provider_size_id), mapping
        for mapping in ImageMapping.objects.filter(cloud=cloud):
            assert check.image_exists(cloud, mapping.provider_image_id), mapping
    # mimic lists no networks (its ServiceNet is taken on trust); moto's default subnet:
    aws = Cloud.objects.get(name="AWSLAB-1")
    (subnet,) = SubnetMapping.objects.filter(cloud=aws)
    assert subnet.provider_subnet_id.startswith("subnet-")
    assert check.subnet_exists(aws, subnet.provider_subnet_id), subnet
