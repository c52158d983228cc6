"""The OpenStack plugin against mimic (Keystone v2 + Nova), PEERS.md."""

from __future__ import annotations

import json

import libcloud.pricing
import pytest

from providers.base import CreateOptions, NotFoundAtProvider, ProviderError, Unsupported
from providers.openstack import OpenStackProvider
from providers.status import Status


@pytest.fixture
def openstack(mimic) -> OpenStackProvider:
    options, credentials = mimic.options()
    return OpenStackProvider(OpenStackProvider.validate_options(options), credentials)


@pytest.fixture
def image(openstack) -> str:
    return openstack.list_images()[0].id


def test_it_lists_sizes_and_images(openstack):
    sizes = {size.id: size for size in openstack.list_sizes()}
    images = openstack.list_images()

    assert len(sizes) == 35
    assert (sizes["2"].vcpus, sizes["2"].ram_mb, sizes["2"].disk_gb) == (1, 512, 20)
    assert images and all(image.id and image.name for image in images)
    assert openstack.get_image(images[0].id) == images[0]
    assert openstack.get_image("no-such-image") is None


def test_listing_sizes_skips_libclouds_pricing_file():
    # Reading the 4.5 MB file per flavour made a listing take seconds (PEERS.md).
    assert libcloud.pricing.PRICING_DATA["compute"]["openstack"] == {}


def test_create_tags_the_node_and_get_list_and_find_see_it(openstack, image):
    node = openstack.create("db-1", "2", image, CreateOptions(pcm_id="pcm-os-1"))

    assert node.name == "db-1"
    assert node.pcm_id == "pcm-os-1"
    # The POST's answer alone (no read-back in the create): building until looked at.
    assert (node.status, node.raw_status) == (Status.BUILDING, "BUILD")
    seen = openstack.get(node.provider_id)
    assert (seen.provider_id, seen.status, seen.raw_status) == (
        node.provider_id,
        Status.RUNNING,
        "ACTIVE",
    )
    assert [n.provider_id for n in openstack.list()] == [node.provider_id]
    assert openstack.find("pcm-os-1").provider_id == node.provider_id


def test_get_many_asks_for_each_node_and_says_none_for_an_unknown_one(openstack, image):
    ids = [
        openstack.create(f"db-{n}", "2", image, CreateOptions(pcm_id=f"p{n}")).provider_id
        for n in range(2)
    ]

    nodes = openstack.get_many([*ids, "no-such-server"])

    assert not openstack.gets_many_in_one_call  # so a watch does not ask for its peers
    assert [nodes[i].provider_id for i in ids] == ids
    assert nodes["no-such-server"] is None


def test_reboot_and_destroy(openstack, image):
    node_id = openstack.create("db-1", "2", image, CreateOptions(pcm_id="p")).provider_id

    openstack.reboot(node_id)
    rebooting = openstack.get(node_id)
    assert (rebooting.status, rebooting.raw_status) == (Status.REBOOTING, "REBOOT")

    openstack.destroy(node_id)
    assert openstack.get(node_id) is None
    with pytest.raises(NotFoundAtProvider):
        openstack.destroy(node_id)


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ("start", "Start is not supported by this cloud"),
        ("stop", "Stop is not supported by this cloud"),
        ("console_log", "Console log is not supported by this cloud"),
    ],
)
def test_an_action_the_cloud_lacks_is_a_clear_unsupported_error(
    openstack, image, operation, message
):
    node_id = openstack.create("db-1", "2", image, CreateOptions(pcm_id="p")).provider_id

    with pytest.raises(Unsupported) as error:
        getattr(openstack, operation)(node_id)

    assert error.value.message == message
    assert error.value.transient is False
    assert "no such action" in error.value.provider_detail


def test_scheduler_hints_and_anti_affinity_reach_the_peer(mimic, openstack, image):
    openstack.create(
        "web-2",
        "2",
        image,
        CreateOptions(
            pcm_id="p-hints",
            extra={"os_scheduler_hints": {"group": "g-1"}},
            different_host=("server-a", "server-b"),
        ),
    )

    requests = [line for line in mimic.log.read_text().splitlines() if "web-2" in line]
    assert any('"os:scheduler_hints"' in line for line in requests), requests
    hints = next(line for line in requests if "os:scheduler_hints" in line)
    assert '"different_host": ["server-a", "server-b"]' in hints
    assert '"group": "g-1"' in hints


def test_networks_is_taken_without_the_ex_prefix():
    assert OpenStackProvider.extra_kwargs({"networks": [], "keyname": "k"}) == {
        "networks": [],
        "ex_keyname": "k",
    }


def test_a_server_that_fails_at_the_provider_is_an_error_status(openstack, image):
    node = openstack.create(
        "db-1", "2", image, CreateOptions(pcm_id="p", extra={"metadata": {"server_error": "1"}})
    )

    seen = openstack.get(node.provider_id)
    assert (seen.status, seen.raw_status) == (Status.ERROR, "ERROR")


def test_a_create_the_provider_rejects_is_a_provider_error(openstack, image):
    failure = json.dumps({"message": "no capacity", "code": 500})

    with pytest.raises(ProviderError) as error:
        openstack.create(
            "db-1",
            "2",
            image,
            CreateOptions(pcm_id="p", extra={"metadata": {"create_server_failure": failure}}),
        )

    assert error.value.transient is True
    assert "no capacity" in error.value.message


def test_task_states_say_more_than_the_status():
    provider = OpenStackProvider({"auth_url": "http://x"}, {})

    assert provider.abstract_status("ACTIVE/powering-off") == Status.STOPPING
    assert provider.abstract_status("SHUTOFF/powering-on") == Status.STARTING
    assert provider.abstract_status("ACTIVE/deleting") == Status.DELETING
    assert provider.abstract_status("SHUTOFF") == Status.STOPPED
    assert provider.abstract_status("SOMETHING_NEW") == Status.UNKNOWN
