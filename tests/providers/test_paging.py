"""Lists are complete: list() and find() follow the provider's pages (EC2's NextToken,
Nova's next link), at the peers themselves and through the chaos proxy's small pages."""

from __future__ import annotations

import pytest

from providers.base import CreateOptions
from providers.ec2 import EC2Provider
from providers.openstack import OpenStackProvider
from tests.fault_proxy import Faults, proxy

AMI = "ami-03cf127a"
KEYS = {"access_key": "AKIDPCMTESTING", "secret_key": "pcm-moto-secret-value"}


def ec2_at(url: str) -> EC2Provider:
    return EC2Provider({"region": "us-east-1", "endpoint": url, "timeout": 10}, KEYS)


def test_ec2_lists_past_motos_own_page_of_100(moto):
    ec2 = ec2_at(moto.url)
    made = {
        ec2.create(f"n-{i}", "t3.small", AMI, CreateOptions(pcm_id=f"pcm-{i}")).provider_id
        for i in range(105)
    }

    assert {node.provider_id for node in ec2.list()} == made
    assert ec2.find("pcm-104").provider_id in made


def test_ec2_list_and_find_follow_next_token_through_small_pages(moto):
    faults = Faults()
    with proxy(moto.url, faults) as url:
        ec2 = ec2_at(url)
        made = [
            ec2.create(f"n-{i}", "t3.small", AMI, CreateOptions(pcm_id=f"pcm-{i}")).provider_id
            for i in range(12)
        ]
        faults.page_size = 5
        before = len(faults.tokens("DescribeInstances"))

        listed = [node.provider_id for node in ec2.list()]
        asked = len(faults.tokens("DescribeInstances")) - before

        assert sorted(listed) == sorted(made)
        assert asked == 3  # pages of 5, 5 and 2
        assert ec2.find("pcm-11").provider_id == made[11]  # on the last page
        assert ec2.find("pcm-nothing") is None


@pytest.fixture
def nova(mimic):
    faults = Faults()
    options, credentials = mimic.options()
    with proxy(mimic.url, faults) as url:
        options["auth_url"] = f"{url}/identity"
        yield OpenStackProvider(OpenStackProvider.validate_options(options), credentials), faults


@pytest.mark.parametrize("api_version", ["1.1", "2.0"])
def test_openstack_list_and_find_follow_novas_next_link(nova, api_version):
    provider, faults = nova
    image = provider.list_images()[0].id
    made = [
        provider.create(f"s-{i}", "2", image, CreateOptions(pcm_id=f"pcm-{i}")).provider_id
        for i in range(5)
    ]
    if api_version == "2.0":
        settings = {**provider.settings, "api_version": "2.0"}
        settings["base_url"] = provider.driver.connection.get_endpoint()
        provider = OpenStackProvider(settings, provider.credentials)
    faults.page_size = 2

    assert sorted(node.provider_id for node in provider.list()) == sorted(made)
    assert provider.find("pcm-4").provider_id == made[4]
    assert faults.injected["small_page"] >= 4


def test_a_failed_page_is_asked_again_and_the_listing_completes(moto):
    faults = Faults()
    with proxy(moto.url, faults) as url:
        ec2 = ec2_at(url)
        made = {
            ec2.create(f"n-{i}", "t3.small", AMI, CreateOptions(pcm_id=f"pcm-{i}")).provider_id
            for i in range(7)
        }
        faults.page_size = 5
        faults.errors_next = 2  # the cloud fails a page twice (a 503 each time)

        assert {node.provider_id for node in ec2.list()} == made
        assert faults.injected["error_5xx"] == 2
