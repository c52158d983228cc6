"""OpenStack Nova through Keystone v2 or v3."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import libcloud.pricing
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.openstack_identity import OpenStackAuthenticationCache
from libcloud.common.types import LibcloudError
from libcloud.compute.base import Node as LibcloudNode
from libcloud.compute.drivers.openstack import (
    OpenStack_1_1_NodeDriver,
    OpenStack_2_NodeDriver,
    OpenStackNetwork,
    OpenStackSecurityGroup,
)
from libcloud.compute.types import NodeState

from providers.base import (
    TAG,
    TIMEOUT_OPTION,
    CreateOptions,
    Image,
    NotFoundAtProvider,
    Option,
    Param,
    Provider,
    Subnet,
    Unsupported,
    read_page,
)
from providers.status import Status

logger = logging.getLogger(__name__)

# libcloud reads its 4.5 MB pricing file once per flavour while listing OpenStack sizes
# (1.5 s for 35 flavours, PEERS.md); PCM does not use prices.
libcloud.pricing.set_pricing("compute", "openstack", {})


# At most this many pages of servers: a listing that never ends is an error.
MAX_PAGES = 1000


class TokenCache(OpenStackAuthenticationCache):
    """Keystone tokens (with their service catalogue) kept for the drivers that one set of
    credentials makes in this process, until they expire: PCM makes a driver per operation,
    and each would otherwise log in again (a second call, and real Keystones throttle
    logins). A 401 clears the token (libcloud), so the next call logs in afresh."""

    def __init__(self):
        self._contexts: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            return self._contexts.get(key)

    def put(self, key, context):
        with self._lock:
            self._contexts[key] = context

    def clear(self, key):
        with self._lock:
            self._contexts.pop(key, None)


_token_caches: dict[str, TokenCache] = {}
_token_caches_lock = threading.Lock()


def token_cache(settings: dict, credentials: dict) -> TokenCache:
    """The cache of one set of credentials: changed credentials (a new password in the
    admin) never reuse a token the old ones got."""
    fingerprint = hashlib.sha256(
        json.dumps([settings, credentials], sort_keys=True, default=str).encode()
    ).hexdigest()
    with _token_caches_lock:
        return _token_caches.setdefault(fingerprint, TokenCache())


class PCMDriverMixin:
    """Keeps Nova's own `status` on the node (libcloud's NodeState loses it), and reads
    every page of Nova's listings: Nova answers at most `[api] max_limit` servers or
    flavours (1000 by default) with a link to the next page, which libcloud follows for
    servers only with API 2.0, and never for flavours; each page is asked again when it
    fails. (Images: Nova's image list at 1.1 is not cut to pages, and libcloud follows
    Glance's at 2.0.)"""

    def _to_node(self, api_node):
        node = super()._to_node(api_node)
        node.extra["status"] = api_node.get("status", "")
        return node

    def _all_pages(self, path: str, key: str, params: dict | None = None) -> dict:
        params = dict(params or {})
        items: list = []
        for _ in range(MAX_PAGES):
            page = read_page(
                lambda params=params: self.connection.request(path, params=params)
            ).object
            items += page.get(key, [])
            after = [link for link in page.get(f"{key}_links", []) if link["rel"] == "next"]
            if not after:
                return {key: items}
            params = {**params, **dict(parse_qsl(urlsplit(after[0]["href"]).query))}
        raise LibcloudError(f"The list of {key} did not end after {MAX_PAGES} pages")

    def list_nodes(self, ex_all_tenants=False):
        params = {"all_tenants": 1} if ex_all_tenants else {}
        servers = self._all_pages("/servers/detail", "servers", params)["servers"]
        # A server that moves while the pages are read (Nova lists a server it is still
        # scheduling from its API database, then from its cell's) may come twice: once.
        once = {server["id"]: server for server in servers}
        return self._to_nodes({"servers": list(once.values())})

    def list_sizes(self, location=None):
        return self._to_sizes(self._all_pages("/flavors/detail", "flavors"))

    def create_node(
        self,
        name,
        size,
        image=None,
        ex_keyname=None,
        ex_userdata=None,
        ex_config_drive=None,
        ex_security_groups=None,
        ex_metadata=None,
        ex_files=None,
        networks=None,
        ex_disk_config=None,
        ex_admin_pass=None,
        ex_availability_zone=None,
        ex_blockdevicemappings=None,
        ex_os_scheduler_hints=None,
    ):
        """One POST. libcloud's own create reads the new server back (a GET by id), and a
        failure of that read (not visible yet, throttled, a 5xx) made a create the cloud
        had carried out look failed, or, retried as a whole, made a second server. The
        node here is the POST's answer; its status is read later, as any new node's.
        (The same arguments as libcloud's, which PCM's `extra` is checked against;
        `ex_admin_pass` is not sent, as libcloud does not send it.)"""
        params = self._create_args_to_params(
            None,
            name=name,
            size=size,
            image=image,
            ex_keyname=ex_keyname,
            ex_userdata=ex_userdata,
            ex_config_drive=ex_config_drive,
            ex_security_groups=ex_security_groups or [],
            ex_metadata=ex_metadata or {},
            ex_files=ex_files or {},
            networks=networks or [],
            ex_disk_config=ex_disk_config,
            ex_availability_zone=ex_availability_zone,
            ex_blockdevicemappings=ex_blockdevicemappings,
        )
        data = {"server": params}
        if ex_os_scheduler_hints:
            data["os:scheduler_hints"] = ex_os_scheduler_hints
        server = self.connection.request("/servers", method="POST", data=data).object["server"]
        return LibcloudNode(
            id=server["id"],
            name=name,
            state=NodeState.PENDING,
            public_ips=[],
            private_ips=[],
            driver=self,
            extra={"status": "BUILD", "metadata": ex_metadata or {}},
        )


class OpenStack11Driver(PCMDriverMixin, OpenStack_1_1_NodeDriver):
    pass


class OpenStack2Driver(PCMDriverMixin, OpenStack_2_NodeDriver):
    pass


DRIVERS = {"1.1": OpenStack11Driver, "2.0": OpenStack2Driver}


def _network(network_id: str) -> OpenStackNetwork:
    return OpenStackNetwork(network_id, network_id, None, None)


# Nova's limit on a metadata key and value.
NOVA_METADATA_MAX = 255


def _fitting(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags Nova's metadata can hold: a longer one is left to PCM's own record."""
    fitting = {
        key: value
        for key, value in tags.items()
        if len(key) <= NOVA_METADATA_MAX and len(value) <= NOVA_METADATA_MAX
    }
    if len(fitting) < len(tags):
        logger.info("Tags longer than Nova's metadata takes are kept by PCM only")
    return fitting


class OpenStackProvider(Provider):
    """An OpenStack cloud; Keystone v2 (tenant) or v3 (project and domain).

    Nodes carry PCM's instance id in their server metadata, set by the create call itself.
    Anti-affinity becomes Nova's `different_host` scheduler hint.
    """

    key = "openstack"
    label = "OpenStack"
    tested_against = (
        "OpenStack 2026.1 (Keystone v3, Nova with the fake driver, Neutron, Glance) "
        "and mimic (Keystone v2), in CI"
    )
    options = (
        Option(
            "auth_url",
            "Keystone URL, e.g. https://keystone.example:5000",
            required=True,
            kind="url",
        ),
        Option(
            "auth_version",
            "Keystone API and method (default 3.x_password)",
            choices=("2.0_password", "3.x_password"),
        ),
        Option("tenant_name", "Tenant (Keystone v2) or project (v3) name"),
        Option("domain_name", "Keystone v3 user domain (default: Default)"),
        Option("region", "Service region, e.g. RegionOne"),
        Option("service_name", "Compute service name in the catalogue, e.g. nova"),
        Option(
            "api_version",
            "Nova API as libcloud speaks it (default 1.1; 2.0 uses Glance for images)",
            choices=("1.1", "2.0"),
        ),
        Option("base_url", "Compute endpoint, instead of the one in the catalogue", kind="url"),
        TIMEOUT_OPTION,
        Option("username", "User name", required=True, secret=True),
        Option("password", "Password", required=True, secret=True),
    )
    capabilities = frozenset(
        {
            "create",
            "destroy",
            "list_sizes",
            "list_images",
            "reboot",
            "start",
            "stop",
            "console_log",
            "subnets",
            "list_subnets",
            "user_data",
            "provider_tags",
        }
    )
    # Nova server statuses:
    # https://docs.openstack.org/api-guide/compute/server_concepts.html
    state_map = {
        "BUILD": Status.BUILDING,
        "REBUILD": Status.BUILDING,
        "ACTIVE": Status.RUNNING,
        "PASSWORD": Status.RUNNING,
        "MIGRATING": Status.RUNNING,
        "RESIZE": Status.BUILDING,
        "VERIFY_RESIZE": Status.RUNNING,
        "REVERT_RESIZE": Status.BUILDING,
        "REBOOT": Status.REBOOTING,
        "HARD_REBOOT": Status.REBOOTING,
        "SHUTOFF": Status.STOPPED,
        "STOPPED": Status.STOPPED,
        "SUSPENDED": Status.STOPPED,
        "PAUSED": Status.STOPPED,
        "SHELVED": Status.STOPPED,
        "SHELVED_OFFLOADED": Status.STOPPED,
        "RESCUE": Status.UNKNOWN,
        "SOFT_DELETED": Status.DELETED,
        "DELETED": Status.DELETED,
        "ERROR": Status.ERROR,
        "UNKNOWN": Status.UNKNOWN,
    }
    # A task in progress says more than the status it will leave (OS-EXT-STS:task_state);
    # those seen at Nova 2026.1 are checked in tests/providers/test_openstack.py.
    task_state_map = {
        "scheduling": Status.BUILDING,
        "networking": Status.BUILDING,
        "block_device_mapping": Status.BUILDING,
        "spawning": Status.BUILDING,
        "rebuilding": Status.BUILDING,
        "rebuild_block_device_mapping": Status.BUILDING,
        "rebuild_spawning": Status.BUILDING,
        "powering-off": Status.STOPPING,
        "powering-on": Status.STARTING,
        "rebooting": Status.REBOOTING,
        "reboot_pending": Status.REBOOTING,
        "reboot_started": Status.REBOOTING,
        "rebooting_hard": Status.REBOOTING,
        "reboot_pending_hard": Status.REBOOTING,
        "reboot_started_hard": Status.REBOOTING,
        "deleting": Status.DELETING,
        "soft-deleting": Status.DELETING,
    }
    plain_create_params = frozenset({"networks"})
    extra_types = {
        "availability_zone": Param("str"),
        "blockdevicemappings": Param("list[object]", "Nova block_device_mapping_v2 entries"),
        "config_drive": Param("bool"),
        "disk_config": Param("str", "AUTO or MANUAL"),
        "keyname": Param("str", "a Nova key pair name"),
        "metadata": Param("dict[str,str]", "server metadata (PCM's tags field does the same)"),
        "networks": Param("list[uuid]", "network ids (PCM's subnet field does the same)"),
        "os_scheduler_hints": Param("object", 'Nova scheduler hints, e.g. {"group": "..."}'),
        "security_groups": Param("list[str]", "security group names"),
        "userdata": Param("str", "user data (PCM's user_data does the same)", sensitive=True),
        # Not sent by libcloud (so not by PCM), and more than a create needs:
        "admin_pass": Param("str", "the server's root password", sensitive=True, privileged=True),
        "files": Param(
            "dict[str,str]", "files injected (path: content)", sensitive=True, privileged=True
        ),
    }
    subnet_params = frozenset({"networks"})
    user_data_params = frozenset({"ex_userdata"})
    spread_waits_for_peers = True
    node_getter = "ex_get_node_details"

    @classmethod
    def driver_class(cls):
        return OpenStack11Driver

    def connect(self):
        settings = self.settings
        auth_url = settings["auth_url"]
        kwargs: dict[str, Any] = {
            "secure": auth_url.startswith("https"),
            "ex_force_auth_url": auth_url,
            "ex_force_auth_version": settings.get("auth_version", "3.x_password"),
            "timeout": self.timeout,
            "ex_auth_cache": token_cache(settings, self.credentials),
        }
        optional = {
            "tenant_name": "ex_tenant_name",
            "domain_name": "ex_domain_name",
            "region": "ex_force_service_region",
            "service_name": "ex_force_service_name",
            "base_url": "ex_force_base_url",
        }
        for option, argument in optional.items():
            if settings.get(option):
                kwargs[argument] = settings[option]
        driver_class = DRIVERS[settings.get("api_version", "1.1")]
        return driver_class(self.credentials["username"], self.credentials["password"], **kwargs)

    def raw_status(self, node: LibcloudNode) -> str:
        status = node.extra.get("status", "")
        task = node.extra.get("task_state")
        return f"{status}/{task}" if task else status

    def abstract_status(self, raw: str) -> Status:
        status, _, task = raw.partition("/")
        return self.task_state_map.get(task) or self.state_map.get(status, Status.UNKNOWN)

    def node_tag(self, node: LibcloudNode) -> str | None:
        return (node.extra.get("metadata") or {}).get(TAG)

    def node_error(self, node: LibcloudNode) -> str:
        # Nova's `fault` on a server in ERROR, e.g. "No valid host was found. ..."
        return str((node.extra.get("fault") or {}).get("message") or "")

    def extra_objects(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """libcloud reads a network's .id and a security group's .name."""
        if kwargs.get("networks"):
            kwargs["networks"] = [_network(network_id) for network_id in kwargs["networks"]]
        if kwargs.get("ex_security_groups"):
            kwargs["ex_security_groups"] = [
                OpenStackSecurityGroup(None, None, name, "", None)
                for name in kwargs["ex_security_groups"]
            ]
        return kwargs

    def create_kwargs(self, options: CreateOptions) -> dict[str, Any]:
        kwargs = super().create_kwargs(options)
        kwargs["ex_metadata"] = {
            **(kwargs.get("ex_metadata") or {}),
            **_fitting(options.tags),
            TAG: options.pcm_id,
        }
        if options.subnet:
            kwargs["networks"] = [_network(options.subnet)]
        if options.user_data:
            kwargs["ex_userdata"] = options.user_data  # libcloud sends it base64-encoded
        if options.different_host:
            hints = dict(kwargs.get("ex_os_scheduler_hints") or {})
            hints["different_host"] = [*hints.get("different_host", []), *options.different_host]
            kwargs["ex_os_scheduler_hints"] = hints
        return kwargs

    def driver_subnets(self, driver) -> list[Subnet]:
        """Nova's networks (API 1.1: Nova's os-networks, which asks Neutron), or Neutron's
        own (2.0)."""
        return [
            Subnet(id=str(network.id), name=network.name or "", cidr=str(network.cidr or ""))
            for network in driver.ex_list_networks()
        ]

    def set_tags(self, provider_id: str, pcm_id: str, tags: Mapping[str, str]) -> None:
        """The server's metadata becomes the tags and PCM's own (Nova replaces it whole)."""
        self._require("provider_tags")
        metadata = {**_fitting(tags), TAG: pcm_id}
        node = self._libcloud_node(provider_id)
        self._call("tag", lambda driver: driver.ex_set_metadata(node, metadata), read=False)

    def get_image(self, image_id: str) -> Image | None:
        try:
            image = self._read("image lookup", lambda driver: driver.get_image(image_id))
        except NotFoundAtProvider:
            return None
        return Image(id=str(image.id), name=image.name or "")

    def reboot(self, provider_id: str) -> None:
        self._require("reboot")
        self._call(
            "reboot",
            lambda driver: driver.ex_soft_reboot_node(self._libcloud_node(provider_id)),
            read=False,
        )

    def console_log(self, provider_id: str) -> str:
        self._require("console_log")
        output = self._read(
            "console log",
            lambda driver: driver.ex_get_console_output(self._libcloud_node(provider_id)),
        )
        return (output or {}).get("output") or ""

    def translate(self, exc: Exception, operation: str):
        # Nova (and mimic) answer 400 "There is no such action" for an action it lacks.
        if isinstance(exc, BaseHTTPError) and "no such action" in str(exc).lower():
            return Unsupported(operation, provider_detail=str(exc))
        return None
