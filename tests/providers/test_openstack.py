"""The OpenStack plugin against a real OpenStack 2026.1 (tests/openstack_lab.py): Keystone v3
password auth, Nova with the fake virt driver on two hosts, Neutron, Glance, Placement.
Nova and Glance answer at most 3 items a page, so that every listing is proven to page.
Both Nova API versions libcloud offers (1.1, and 2.0, which reads images from Glance) log
in, list and create here (`each_api`); the node actions, one code for both, run with the
plugin's default (1.1)."""

from __future__ import annotations

import base64
import time

import pytest

from providers.base import (
    CreateOptions,
    NotFoundAtProvider,
    ProviderError,
    StateConflict,
)
from providers.openstack import OpenStackProvider
from providers.status import Status

pytestmark = pytest.mark.openstack


@pytest.fixture
def tenant(openstack):
    return openstack.tenant()


def plugin_for(tenant, **options) -> OpenStackProvider:
    options = OpenStackProvider.validate_options(tenant.options(**options))
    return OpenStackProvider(options, tenant.credentials())


@pytest.fixture
def plugin(tenant) -> OpenStackProvider:
    """The plugin as a cloud configured with its defaults has it (API 1.1, Keystone v3)."""
    return plugin_for(tenant)


@pytest.fixture(params=["1.1", "2.0"])
def each_api(request, tenant) -> OpenStackProvider:
    """The plugin with each Nova API version libcloud offers. They differ in how they log
    in, list images (2.0 reads Glance) and list servers; their node actions are the same
    code (2.0 inherits them), run once with the default above."""
    return plugin_for(tenant, api_version=request.param)


def create(plugin, openstack, name="vm-1", flavour="m1.tiny", **options):
    options.setdefault("pcm_id", f"pcm-{name}")
    return plugin.create(name, flavour, openstack.info["image"], CreateOptions(**options))


def watch(plugin, provider_id, until, seconds=60) -> list[str]:
    """The raw statuses the node shows (each once, in order) until `until(node)` holds."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while True:
        node = plugin.get(provider_id)
        raw = node.raw_status if node else "(gone)"
        if not seen or seen[-1] != raw:
            seen.append(raw)
        if until(node):
            return seen
        assert time.monotonic() < deadline, f"still {raw} after {seconds} s: {seen}"
        time.sleep(0.2)


def running(node):
    return node is not None and node.raw_status == "ACTIVE"


def test_it_logs_in_with_keystone_v3_as_a_user_of_a_project_in_a_domain(each_api, tenant):
    assert "auth_version" not in each_api.settings  # the plugin's default: 3.x_password
    assert (each_api.settings["tenant_name"], each_api.settings["domain_name"]) == (
        tenant.project,
        "Default",
    )
    assert each_api.check() > 0


@pytest.mark.parametrize("api_version", ["1.1", "2.0"])
def test_bad_credentials_are_a_clear_permanent_error(tenant, api_version):
    options = OpenStackProvider.validate_options(tenant.options(api_version=api_version))
    plugin = OpenStackProvider(options, {"username": tenant.user, "password": "wrong-password"})

    with pytest.raises(ProviderError) as error:
        plugin.list_sizes()

    assert error.value.message == "The cloud refused the credentials for the list sizes"
    assert error.value.transient is False
    assert "wrong-password" not in str(error.value.provider_detail)


def test_a_login_is_kept_for_its_credentials_and_changed_ones_log_in_afresh(tenant):
    first = plugin_for(tenant)
    first.list_sizes()
    again = plugin_for(tenant)  # PCM makes a plugin (a driver) per operation
    again.list_sizes()
    wrong = OpenStackProvider(first.settings, {**tenant.credentials(), "password": "changed"})

    assert again.driver.connection.auth_token == first.driver.connection.auth_token
    with pytest.raises(ProviderError, match="refused the credentials"):
        wrong.list_sizes()


def test_every_flavour_and_image_is_listed_past_the_first_page(each_api, openstack):
    plugin = each_api
    sizes = {size.id: size for size in plugin.list_sizes()}
    images = plugin.list_images()

    page = openstack.info["page_size"]
    assert sorted(sizes) == sorted(openstack.info["flavors"]) and len(sizes) > page
    assert (sizes["m1.medium"].vcpus, sizes["m1.medium"].ram_mb, sizes["m1.medium"].disk_gb) == (
        2,
        4096,
        40,
    )
    assert {image.id: image.name for image in images} == {
        image_id: name for name, image_id in openstack.info["images"].items()
    }
    assert len(images) > page
    assert plugin.get_image(openstack.info["image"]).name == "cirros-raw"
    assert plugin.get_image("0b0b0b0b-0000-4000-8000-000000000000") is None


def test_a_create_is_tagged_and_list_and_find_page_through_every_server(each_api, openstack):
    plugin = each_api
    made = [create(plugin, openstack, name=f"vm-{n}") for n in range(4)]  # more than a page

    assert all((node.status, node.raw_status) == (Status.BUILDING, "BUILD") for node in made)
    assert {node.pcm_id for node in made} == {f"pcm-vm-{n}" for n in range(4)}
    # While Nova schedules a server it lists it from its API database, then from its cell's:
    # a listing read across that move can miss it (seen here). PCM never takes one
    # listing's word for an absence; this test lists once they have been placed.
    for node in made:
        watch(plugin, node.provider_id, running)
    listed = {node.provider_id: node.pcm_id for node in plugin.list()}
    assert listed == {node.provider_id: node.pcm_id for node in made}
    assert len(listed) > openstack.info["page_size"]
    for node in made:  # whichever page it is on
        assert plugin.find(node.pcm_id).provider_id == node.provider_id
    assert plugin.find("pcm-no-such-instance") is None


def test_a_reboot_while_the_server_builds_is_refused_as_a_state_conflict(plugin, openstack):
    node = create(plugin, openstack)

    with pytest.raises(StateConflict) as error:
        plugin.reboot(node.provider_id)

    assert error.value.message.startswith("The cloud refused the reboot in the node's present")
    assert "vm_state building" in error.value.message
    assert error.value.maybe_done is False
    watch(plugin, node.provider_id, running)  # the server goes on building: nothing broke


def test_reboot_stop_start_console_and_delete(plugin, openstack):
    node = create(plugin, openstack)
    watch(plugin, node.provider_id, running)
    provider_id = node.provider_id

    plugin.reboot(provider_id)
    rebooting = plugin.get(provider_id)
    assert rebooting.status == Status.REBOOTING and rebooting.raw_status.startswith("REBOOT")
    watch(plugin, provider_id, running)

    plugin.stop(provider_id)
    assert watch(plugin, provider_id, lambda n: n.raw_status == "SHUTOFF")[-1] == "SHUTOFF"
    with pytest.raises(StateConflict, match="vm_state stopped"):
        plugin.stop(provider_id)

    plugin.start(provider_id)
    watch(plugin, provider_id, running)

    assert plugin.console_log(provider_id) == "FAKE CONSOLE OUTPUT\nANOTHER\nLAST LINE"

    plugin.destroy(provider_id)
    # Nova shows the server DELETED (PCM: deleted) for a moment, then no longer knows it.
    seen = watch(plugin, provider_id, lambda n: n is None)
    assert seen[-1] == "(gone)"
    with pytest.raises(NotFoundAtProvider):
        plugin.destroy(provider_id)
    with pytest.raises(NotFoundAtProvider):
        plugin.console_log(provider_id)


# What real Nova shows, as STATUS/task_state, and PCM's status for it. Every raw status a
# server shows in the test below must be here (an unmapped one fails it).
NOVA_STATES = {
    "BUILD": Status.BUILDING,
    "BUILD/scheduling": Status.BUILDING,
    "BUILD/networking": Status.BUILDING,
    "BUILD/block_device_mapping": Status.BUILDING,
    "BUILD/spawning": Status.BUILDING,
    "ACTIVE": Status.RUNNING,
    "REBOOT": Status.REBOOTING,
    "REBOOT/rebooting": Status.REBOOTING,
    "REBOOT/reboot_pending": Status.REBOOTING,
    "REBOOT/reboot_started": Status.REBOOTING,
    "ACTIVE/rebooting": Status.REBOOTING,
    "HARD_REBOOT": Status.REBOOTING,
    "HARD_REBOOT/rebooting_hard": Status.REBOOTING,
    "HARD_REBOOT/reboot_pending_hard": Status.REBOOTING,
    "HARD_REBOOT/reboot_started_hard": Status.REBOOTING,
    "ACTIVE/powering-off": Status.STOPPING,
    "SHUTOFF": Status.STOPPED,
    "SHUTOFF/powering-on": Status.STARTING,
    "ACTIVE/deleting": Status.DELETING,
    "SHUTOFF/deleting": Status.DELETING,
    "DELETED": Status.DELETED,
    "ERROR": Status.ERROR,
    "(gone)": None,
}


def test_the_state_map_reads_what_real_nova_shows(plugin, openstack, tenant):
    node = create(plugin, openstack)
    provider_id = node.provider_id
    seen = watch(plugin, provider_id, running)
    plugin.reboot(provider_id)  # soft: REBOOT
    seen += watch(plugin, provider_id, running)
    nova = f"{openstack.compute}/servers/{provider_id}/action"
    tenant.api().call("POST", nova, json={"reboot": {"type": "HARD"}})
    seen += watch(plugin, provider_id, lambda n: n.raw_status.startswith("HARD_REBOOT"))
    seen += watch(plugin, provider_id, running)
    plugin.stop(provider_id)
    seen += watch(plugin, provider_id, lambda n: n.raw_status == "SHUTOFF")
    plugin.start(provider_id)
    seen += watch(plugin, provider_id, running)
    plugin.destroy(provider_id)
    seen += watch(plugin, provider_id, lambda n: n is None)
    failed = create(plugin, openstack, name="vm-huge", flavour="m1.huge")  # fits no host
    seen += watch(plugin, failed.provider_id, lambda n: n.raw_status == "ERROR")
    assert plugin.get(failed.provider_id).error.startswith("No valid host was found")

    unmapped = sorted(set(seen) - set(NOVA_STATES))
    assert not unmapped, f"Nova showed states this test does not know: {unmapped}"
    for raw in set(seen) - {"(gone)"}:
        assert plugin.abstract_status(raw) == NOVA_STATES[raw], raw
    statuses = {raw.partition("/")[0] for raw in seen}
    assert {"BUILD", "ACTIVE", "REBOOT", "HARD_REBOOT", "SHUTOFF", "DELETED", "ERROR"} <= statuses


def test_an_unknown_flavour_is_a_permanent_error_and_makes_nothing(plugin, openstack):
    with pytest.raises(ProviderError) as error:
        create(plugin, openstack, flavour="m1.no-such-flavour")

    assert error.value.transient is False
    assert error.value.maybe_done is False
    assert "400" in error.value.message and "flavor" in error.value.message.lower()
    assert plugin.list() == []


def test_a_gone_server_is_none_and_its_actions_are_not_found(plugin):
    gone = "0b0b0b0b-0000-4000-8000-000000000000"

    assert plugin.get(gone) is None
    assert plugin.get_many([gone]) == {gone: None}
    for action in (plugin.reboot, plugin.stop, plugin.start, plugin.destroy):
        with pytest.raises(NotFoundAtProvider):
            action(gone)


def test_scheduler_hints_reach_the_real_scheduler(plugin, openstack):
    first = create(plugin, openstack, name="vm-a")
    watch(plugin, first.provider_id, running)
    # Nova's SameHostFilter: asked to share a host, the server must land beside the first.
    beside = create(
        plugin,
        openstack,
        name="vm-b",
        extra={"os_scheduler_hints": {"same_host": [first.provider_id]}},
    )
    away = create(plugin, openstack, name="vm-c", different_host=(first.provider_id,))
    for node in (beside, away):
        watch(plugin, node.provider_id, running)

    host = openstack.host_of(first.provider_id)
    assert openstack.host_of(beside.provider_id) == host
    assert openstack.host_of(away.provider_id) != host


# -- networks, user data, tags --------------------------------------------------------------

SCRIPT = "#!/bin/sh\necho made by PCM\n"


def own_network(tenant, openstack, name: str) -> str:
    """A network of the tenant's own (Neutron `local`), with a subnet: its id."""
    api, neutron = tenant.api(), openstack.info["network_url"]
    network = api.call("POST", f"{neutron}/v2.0/networks", json={"network": {"name": name}})
    network_id = network["network"]["id"]
    subnet = {"network_id": network_id, "cidr": "10.9.0.0/24", "ip_version": 4}
    api.call("POST", f"{neutron}/v2.0/subnets", json={"subnet": subnet})
    return network_id


def test_it_lists_the_networks_a_server_can_be_put_on(each_api, tenant, openstack):
    mine = own_network(tenant, openstack, "pcm-listed")

    subnets = {subnet.id: subnet for subnet in each_api.list_subnets()}

    assert openstack.info["network"] in subnets  # the shared one
    assert subnets[mine].name == "pcm-listed"
    assert each_api.get_subnet(mine).id == mine
    assert each_api.get_subnet("00000000-0000-0000-0000-00000000dead") is None


def test_a_create_puts_the_server_on_its_network_with_its_user_data_and_tags(
    plugin, tenant, openstack
):
    network = own_network(tenant, openstack, "pcm-back")
    tags = {"team": "web", "long": "v" * 256}  # Nova's metadata takes 255 characters at most

    node = create(plugin, openstack, subnet=network, user_data=SCRIPT, tags=tags)

    server = openstack.wait_for(node.provider_id, lambda server: server["status"] == "ACTIVE")
    assert list(server["addresses"]) == ["pcm-back"]
    assert server["metadata"] == {"team": "web", "pcm_id": "pcm-vm-1"}
    # The user data as Nova keeps it (an administrator's view, API 2.3 and later).
    shown = openstack.admin().call(
        "GET",
        f"{openstack.compute}/servers/{node.provider_id}",
        headers={"OpenStack-API-Version": "compute 2.3"},
    )["server"]
    assert base64.b64decode(shown["OS-EXT-SRV-ATTR:user_data"]).decode() == SCRIPT

    plugin.set_tags(node.provider_id, "pcm-vm-1", {"team": "ops", "new": "1"})

    assert openstack.server(node.provider_id)["metadata"] == {
        "team": "ops",
        "new": "1",
        "pcm_id": "pcm-vm-1",
    }
    assert plugin.get(node.provider_id).pcm_id == "pcm-vm-1"  # still found by its tag


def test_extra_networks_and_security_groups_given_as_plain_json_reach_nova(
    plugin, tenant, openstack
):
    network = own_network(tenant, openstack, "pcm-extra")
    extra = plugin.extra_kwargs({"networks": [network], "security_groups": ["default"]})

    node = create(plugin, openstack, extra={"networks": [network], "security_groups": ["default"]})

    server = openstack.wait_for(node.provider_id, lambda server: server["status"] == "ACTIVE")
    assert extra == {"networks": [network], "ex_security_groups": ["default"]}
    assert list(server["addresses"]) == ["pcm-extra"]
    assert [group["name"] for group in server["security_groups"]] == ["default"]
