"""Microsoft Azure (Resource Manager). Not yet tested against a live cloud: no Azure peer
runs offline."""

from __future__ import annotations

from typing import Any

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import Node as LibcloudNode
from libcloud.compute.base import NodeAuthSSHKey, NodeLocation
from libcloud.compute.drivers.azure_arm import AzureImage, AzureNodeDriver
from libcloud.compute.types import NodeState

from providers.base import (
    TAG,
    TIMEOUT_OPTION,
    CreateOptions,
    Node,
    Option,
    Param,
    Provider,
    ProviderError,
    Size,
)
from providers.status import Status

INSTANCE_VIEW_API_VERSION = "2015-06-15"


class RawStatusAzureDriver(AzureNodeDriver):
    """Keeps the instance view's own status code on the node (`pcm_raw_status`): a
    provisioning state while one is in progress, else the power state."""

    def _fetch_power_state(self, data):
        response = self.connection.request(
            f"{data['id']}/InstanceView", params={"api-version": INSTANCE_VIEW_API_VERSION}
        )
        codes = [status["code"] for status in response.object.get("statuses", [])]
        busy = [
            c
            for c in codes
            if c.startswith("ProvisioningState/") and c != "ProvisioningState/succeeded"
        ]
        power = [c for c in codes if c.startswith("PowerState/")]
        data["pcm_raw_status"] = (busy or power or ["unknown"])[0]
        return NodeState.UNKNOWN  # PCM reads pcm_raw_status, not libcloud's NodeState


class AzureProvider(Provider):
    """Virtual machines in one Azure subscription and resource group.

    Nodes are tagged `pcm_id` in the create call; a node's provider id is its resource id.
    An image's provider id is its URN, `publisher:offer:sku:version`.
    """

    key = "azure_arm"
    label = "Microsoft Azure (Resource Manager)"
    tested_against = "not yet tested against a live cloud"
    options = (
        Option("tenant_id", "Azure AD tenant id", required=True),
        Option("subscription_id", "Subscription id", required=True),
        Option("resource_group", "Resource group for PCM's virtual machines", required=True),
        Option("location", "Region, e.g. westeurope", required=True),
        Option("admin_ssh_key", "SSH public key installed for the admin user of new machines"),
        TIMEOUT_OPTION,
        Option("client_id", "Service principal application id", required=True, secret=True),
        Option("client_secret", "Service principal secret", required=True, secret=True),
    )
    capabilities = frozenset({"create", "destroy", "list_sizes", "reboot", "start", "stop"})
    # https://learn.microsoft.com/azure/virtual-machines/states-billing
    state_map = {
        "ProvisioningState/creating": Status.BUILDING,
        "ProvisioningState/updating": Status.BUILDING,
        "ProvisioningState/deleting": Status.DELETING,
        "PowerState/starting": Status.STARTING,
        "PowerState/running": Status.RUNNING,
        "PowerState/stopping": Status.STOPPING,
        "PowerState/stopped": Status.STOPPED,
        "PowerState/deallocating": Status.STOPPING,
        "PowerState/deallocated": Status.STOPPED,
    }
    reserved_create_params = frozenset({"ex_resource_group"})
    # Arguments libcloud takes only as objects (ex_nic) are not offered.
    extra_types = {
        "blob_container": Param("str"),
        "customdata": Param("str", "custom data (cloud-init)", sensitive=True),
        "disk_size": Param("int", "GB"),
        "network": Param("str", "a virtual network name"),
        "os_disk_delete": Param("bool"),
        "storage_account": Param("str"),
        "storage_account_type": Param("str"),
        "subnet": Param("str", "a subnet name"),
        "tags": Param("dict[str,str]"),
        "use_managed_disks": Param("bool"),
        "user_name": Param("str", "the admin user's name"),
    }
    node_getter = "ex_get_node"
    actions_need_full_node = True

    @classmethod
    def driver_class(cls):
        return RawStatusAzureDriver

    def connect(self):
        return RawStatusAzureDriver(
            self.settings["tenant_id"],
            self.settings["subscription_id"],
            self.credentials["client_id"],
            self.credentials["client_secret"],
            timeout=self.timeout,
        )

    def abstract_status(self, raw: str) -> Status:
        if raw.startswith("ProvisioningState/failed"):
            return Status.ERROR
        return super().abstract_status(raw)

    def raw_status(self, node: LibcloudNode) -> str:
        return node.extra.get("pcm_raw_status", "")

    def node_tag(self, node: LibcloudNode) -> str | None:
        return (node.extra.get("tags") or {}).get(TAG)

    def create_kwargs(self, options: CreateOptions) -> dict[str, Any]:
        if not self.settings.get("admin_ssh_key"):
            raise ProviderError(
                "Set the cloud's admin_ssh_key option to create machines on Azure", transient=False
            )
        kwargs = super().create_kwargs(options)
        kwargs["ex_tags"] = {**(kwargs.get("ex_tags") or {}), TAG: options.pcm_id}
        kwargs["ex_resource_group"] = self.settings["resource_group"]
        kwargs.setdefault("ex_use_managed_disks", True)
        kwargs["auth"] = NodeAuthSSHKey(self.settings["admin_ssh_key"])
        kwargs["location"] = self._location(self.driver)
        return kwargs

    def _location(self, driver) -> NodeLocation:
        location = self.settings["location"]
        return NodeLocation(location, location, "", driver)

    def _image_arg(self, driver, provider_image_id: str) -> Any:
        publisher, offer, sku, version = provider_image_id.split(":")
        return AzureImage(version, sku, offer, publisher, self.settings["location"], driver)

    def list_sizes(self) -> list[Size]:
        sizes = self._read("list sizes", lambda d: d.list_sizes(self._location(d)))
        return [self._size(size) for size in sizes]

    def list(self) -> list[Node]:
        group = self.settings["resource_group"]
        nodes = self._read("list", lambda driver: driver.list_nodes(ex_resource_group=group))
        return [self._node(node) for node in nodes]

    def destroy(self, provider_id: str) -> None:
        # libcloud's destroy polls the machine's deletion (10 x 10 s by default) before it
        # removes the network interface; a short poll here, and a delete task that tries
        # again (translate) keeps a worker from waiting out Azure.
        self._require("destroy")
        self._call(
            "destroy",
            lambda driver: driver.destroy_node(
                self._libcloud_node(provider_id), ex_poll_qty=3, ex_poll_wait=5
            ),
            read=False,
        )

    def translate(self, exc: Exception, operation: str):
        # The machine's deletion was accepted and goes on: its network interface is still
        # in use. A later try finds the machine gone and removes the interface.
        if isinstance(exc, BaseHTTPError) and "NicInUse" in str(exc):
            return ProviderError(
                "The cloud is still deleting the machine",
                transient=True,
                maybe_done=True,
                provider_detail=str(exc),
            )
        return None
