"""GCE and Azure: what can be checked without a live cloud (no peer runs offline).

Their options, state maps, `extra` and tags are checked here; the calls themselves are
"not yet tested against a live cloud" (docs/providers.md).
"""

from __future__ import annotations

import pytest

from providers import registry
from providers.azure_arm import AzureProvider
from providers.base import CreateOptions, ExtraError, ProviderError
from providers.gce import GCEProvider
from providers.status import Status


def test_gce_options_and_credentials():
    assert GCEProvider.validate_options({"project": "p", "zone": "europe-west1-b"}) == {
        "project": "p",
        "zone": "europe-west1-b",
    }
    assert [o.name for o in GCEProvider.secret_options()] == ["client_email", "private_key"]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("PROVISIONING", Status.BUILDING),
        ("STAGING", Status.BUILDING),
        ("RUNNING", Status.RUNNING),
        ("STOPPING", Status.STOPPING),
        ("TERMINATED", Status.STOPPED),  # libcloud's NodeState calls it STOPPED too, EC2 not
        ("SUSPENDED", Status.STOPPED),
        ("REPAIRING", Status.UNKNOWN),
    ],
)
def test_gce_state_map(raw, status):
    assert GCEProvider({}, {}).abstract_status(raw) == status


def test_gce_labels_the_node_and_takes_its_own_ex_arguments():
    kwargs = GCEProvider({}, {}).create_kwargs(
        CreateOptions(pcm_id="p-1", extra={"preemptible": True, "ex_disk_size": 50})
    )

    assert kwargs == {"ex_preemptible": True, "ex_disk_size": 50, "ex_labels": {"pcm_id": "p-1"}}
    with pytest.raises(ExtraError):
        GCEProvider.extra_kwargs({"labels": {"a": "b"}})  # PCM's own


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("ProvisioningState/creating", Status.BUILDING),
        ("ProvisioningState/deleting", Status.DELETING),
        ("ProvisioningState/failed/InternalError", Status.ERROR),
        ("PowerState/starting", Status.STARTING),
        ("PowerState/running", Status.RUNNING),
        ("PowerState/deallocating", Status.STOPPING),
        ("PowerState/deallocated", Status.STOPPED),
        ("PowerState/stopped", Status.STOPPED),
        ("", Status.UNKNOWN),
    ],
)
def test_azure_state_map(raw, status):
    assert AzureProvider({}, {}).abstract_status(raw) == status


def test_azure_options():
    options = {
        "tenant_id": "t",
        "subscription_id": "s",
        "resource_group": "pcm",
        "location": "westeurope",
    }

    assert AzureProvider.validate_options(options) == options
    assert "resource_group" not in AzureProvider.extra_params()  # PCM sets it from options
    assert "customdata" in AzureProvider.extra_params()


def test_azure_needs_an_ssh_key_to_create():
    azure = AzureProvider({"resource_group": "pcm", "location": "westeurope"}, {})

    with pytest.raises(ProviderError) as error:
        azure.create_kwargs(CreateOptions(pcm_id="p"))

    assert "admin_ssh_key" in error.value.message


def test_every_plugin_declares_what_the_registry_needs():
    for key, plugin in registry.plugins().items():
        assert plugin.key == key and plugin.label and plugin.capabilities
        assert plugin.state_map, key
        assert set(plugin.state_map.values()) <= set(Status)
        assert not {o.name for o in plugin.public_options()} & {
            o.name for o in plugin.secret_options()
        }


def test_ec2_spreads_through_the_clouds_placement_group():
    from providers.ec2 import EC2Provider

    provider = EC2Provider({"region": "us-east-1"}, {})
    spread = provider.create_kwargs(CreateOptions(pcm_id="p", placement_group="spread-web"))
    own = provider.create_kwargs(
        CreateOptions(pcm_id="p", placement_group="spread-web", extra={"placement_group": "mine"})
    )

    assert spread["ex_placement_group"] == "spread-web"
    assert own["ex_placement_group"] == "mine"  # the client's own choice stands
    assert spread["ex_clienttoken"] == "p" and spread["ex_metadata"] == {"pcm_id": "p"}


def test_a_gce_operation_libcloud_stops_polling_is_still_going_on():
    from libcloud.common.types import LibcloudError

    provider = GCEProvider({}, {})

    error = provider._translate(LibcloudError("Job did not complete in 30 seconds"), "create")

    # Not a failure: the node may exist, and PCM looks for it rather than giving up.
    assert (error.transient, error.maybe_done) == (True, True)
    assert error.message == "The cloud is still carrying out the create"


def test_an_azure_delete_whose_machine_is_still_going_is_tried_again():
    from libcloud.common.exceptions import BaseHTTPError

    provider = AzureProvider({}, {})
    busy = BaseHTTPError(400, "[NicInUse] Network interface is in use by virtual machine")

    error = provider._translate(busy, "destroy")

    assert (error.transient, error.maybe_done) == (True, True)
