"""Google Compute Engine. Not yet tested against a live cloud: no GCE peer runs offline."""

from __future__ import annotations

from typing import Any

from libcloud.common.types import LibcloudError
from libcloud.compute.base import Node as LibcloudNode
from libcloud.compute.drivers.gce import GCENodeDriver

from providers.base import (
    OPERATIONS,
    TAG,
    TIMEOUT_OPTION,
    CreateOptions,
    Option,
    Param,
    Provider,
    ProviderError,
)
from providers.status import Status


class GCEProvider(Provider):
    """A GCE project and zone, through a service account.

    Nodes are labelled `pcm_id` in the create call. A node's provider id is its name,
    which GCE keeps unique within the project's zone and which its API addresses by.
    """

    key = "gce"
    label = "Google Compute Engine"
    tested_against = "not yet tested against a live cloud"
    options = (
        Option("project", "Project id", required=True),
        Option("zone", "Zone, e.g. europe-west1-b", required=True),
        TIMEOUT_OPTION,
        Option("client_email", "Service account e-mail", required=True, secret=True),
        Option(
            "private_key",
            "Service account private key (PEM)",
            required=True,
            secret=True,
            kind="text",
        ),
    )
    capabilities = OPERATIONS
    # https://cloud.google.com/compute/docs/instances/instance-life-cycle
    state_map = {
        "PROVISIONING": Status.BUILDING,
        "STAGING": Status.BUILDING,
        "RUNNING": Status.RUNNING,
        "STOPPING": Status.STOPPING,
        "SUSPENDING": Status.STOPPING,
        "SUSPENDED": Status.STOPPED,
        "TERMINATED": Status.STOPPED,  # GCE's word for a stopped instance
        "REPAIRING": Status.UNKNOWN,
        "UNKNOWN": Status.UNKNOWN,
    }
    reserved_create_params = frozenset({"ex_labels"})
    # Arguments libcloud takes only as objects (ex_boot_disk) are not offered.
    extra_types = {
        "accelerator_count": Param("int"),
        "accelerator_type": Param("str"),
        "automatic_restart": Param("bool"),
        "can_ip_forward": Param("bool"),
        "disk_auto_delete": Param("bool"),
        "disk_size": Param("int", "GB"),
        "disk_type": Param("str", "e.g. pd-ssd"),
        "disks_gce_struct": Param("list[object]"),
        "image_family": Param("str"),
        "metadata": Param("object", "instance metadata", sensitive=True),
        "network": Param("str", "a network name"),
        "nic_gce_struct": Param("list[object]"),
        "on_host_maintenance": Param("str", "MIGRATE or TERMINATE"),
        "preemptible": Param("bool"),
        "service_accounts": Param("list[object]", privileged=True),
        "subnetwork": Param("str", "a subnetwork name"),
        "tags": Param("list[str]", "network tags"),
    }
    node_getter = "ex_get_node"
    actions_need_full_node = True

    @classmethod
    def driver_class(cls):
        return GCENodeDriver

    def connect(self):
        return GCENodeDriver(
            self.credentials["client_email"],
            self.credentials["private_key"],
            datacenter=self.settings["zone"],
            project=self.settings["project"],
            auth_type="SA",
            timeout=self.timeout,
        )

    def provider_id(self, node: LibcloudNode) -> str:
        return node.name

    def raw_status(self, node: LibcloudNode) -> str:
        return node.extra.get("status", "")

    def node_tag(self, node: LibcloudNode) -> str | None:
        return (node.extra.get("labels") or {}).get(TAG)

    def create_kwargs(self, options: CreateOptions) -> dict[str, Any]:
        kwargs = super().create_kwargs(options)
        kwargs["ex_labels"] = {TAG: options.pcm_id}
        return kwargs

    def _size_arg(self, driver, provider_size_id: str) -> Any:
        return provider_size_id  # GCE's driver resolves machine type names itself

    def _image_arg(self, driver, provider_image_id: str) -> Any:
        return provider_image_id

    def console_log(self, provider_id: str) -> str:
        self._require("console_log")
        return self._read(
            "console log",
            lambda driver: driver.ex_get_serial_output(self._libcloud_node(provider_id)),
        )

    def translate(self, exc: Exception, operation: str):
        # GCE answers a create, delete or power call with an operation that libcloud polls
        # only for the connection's timeout, then gives up: the operation goes on at GCE.
        # PCM carries on polling instead (a create is looked for by its label, a delete
        # tried again, a power change watched).
        if isinstance(exc, LibcloudError) and "did not complete" in str(exc):
            return ProviderError(
                f"The cloud is still carrying out the {operation}",
                transient=True,
                maybe_done=True,
                provider_detail=str(exc),
            )
        return None
