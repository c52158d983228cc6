"""Amazon EC2, and private clouds that speak the EC2 API (an "EC2-compatible endpoint")."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from libcloud.common.aws import AWSRequestSignerAlgorithmV4
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import LibcloudError
from libcloud.compute.base import Node as LibcloudNode
from libcloud.compute.drivers.ec2 import (
    NAMESPACE,
    EC2Connection,
    EC2NetworkSubnet,
    EC2NodeDriver,
    EC2Response,
)
from libcloud.utils.xml import findall, findtext

from providers.base import (
    CAPABILITIES,
    TAG,
    TIMEOUT_OPTION,
    ConfigError,
    CreateOptions,
    Image,
    Node,
    NotFoundAtProvider,
    Option,
    Param,
    Provider,
    Subnet,
    read_page,
)
from providers.status import Status

# -- complete listings ------------------------------------------------------------------

# DescribeInstances pages of at most this many reservations (EC2 takes 5 to 1000), and at
# most this many pages: a listing that never ends is an error, not a silent truncation.
PAGE_SIZE = 1000
MAX_PAGES = 1000


# Where DescribeInstances names the public addresses of an instance's network interfaces
# and of their secondary private addresses (an Elastic IP associated with either).
ASSOCIATED_IPS = (
    "networkInterfaceSet/item/association/publicIp",
    "networkInterfaceSet/item/privateIpAddressesSet/item/association/publicIp",
)


class PagingEC2NodeDriver(EC2NodeDriver):
    """libcloud's EC2 driver reads one DescribeInstances answer; EC2 pages its listings
    (moto at 100 reservations by default), so past one page nodes went missing: this one
    asks in pages and follows NextToken, each page asked again when it fails. A lookup by
    instance ids is one call (EC2 refuses MaxResults with ids).

    libcloud then asks DescribeAddresses for the nodes' Elastic IPs: one more call to the
    cloud per look, which doubled the time of every look at a cloud's latency. The
    addresses are in the DescribeInstances answer already (_to_node reads them there)."""

    def list_nodes(self, ex_node_ids=None, ex_filters=None):
        if ex_node_ids:
            params = {"Action": "DescribeInstances", **self._pathlist("InstanceId", ex_node_ids)}
            if ex_filters:
                params.update(self._build_filters(ex_filters))
            return self._nodes_of(self.connection.request(self.path, params=params).object)
        nodes, token = [], None
        for _ in range(MAX_PAGES):
            params = {"Action": "DescribeInstances", "MaxResults": str(PAGE_SIZE)}
            if ex_filters:
                params.update(self._build_filters(ex_filters))
            if token:
                params["NextToken"] = token
            answer = read_page(
                lambda params=params: self.connection.request(self.path, params=params).object
            )
            nodes += self._nodes_of(answer)
            token = findtext(answer, "nextToken", NAMESPACE)
            if not token:
                break
        else:
            raise LibcloudError(f"DescribeInstances did not end after {MAX_PAGES} pages")
        return nodes

    def _nodes_of(self, answer) -> list:
        """The nodes of one DescribeInstances answer."""
        return [
            node
            for reservation in findall(answer, "reservationSet/item", NAMESPACE)
            for node in self._to_nodes(reservation, "instancesSet/item")
        ]

    def _to_node(self, element):
        """libcloud's node, with the public addresses of its interfaces (libcloud reads only
        the primary one, ipAddress)."""
        node = super()._to_node(element)
        for path in ASSOCIATED_IPS:
            for address in findall(element, path, NAMESPACE):
                if address.text and address.text not in node.public_ips:
                    node.public_ips.append(address.text)
        return node

    # libcloud numbers CreateTags' and DeleteTags' lists from 0; EC2's query API numbers
    # them from 1 (moto refuses a DeleteTags without ResourceId.1).
    def ex_create_tags(self, resource, tags):
        return self._tags_call("CreateTags", resource, tags)

    def ex_delete_tags(self, resource, tags):
        return self._tags_call("DeleteTags", resource, tags)

    def _tags_call(self, action: str, resource, tags) -> bool:
        params = {"Action": action, "ResourceId.1": resource.id}
        for number, (key, value) in enumerate(tags.items(), start=1):
            params[f"Tag.{number}.Key"] = key
            if value is not None:
                params[f"Tag.{number}.Value"] = value
        return self._get_boolean(self.connection.request(self.path, params=params).object)


# -- the compatibility layer for EC2-compatible endpoints (PEERS.md) -----------------------

# Any EC2 API namespace, with or without the trailing slash AWS itself sends.
_ANY_NAMESPACE = re.compile(r'xmlns="http://ec2\.amazonaws\.com/doc/[^"]*"')


class CompatibleEC2Response(EC2Response):
    """Reads what EC2-compatible servers send: their namespace may lack AWS's trailing
    slash (libcloud's XPath then finds nothing and lists come back empty), and their
    error bodies may carry a namespace and a <Type> element that libcloud cannot parse."""

    def parse_body(self):
        self.body = _ANY_NAMESPACE.sub(f'xmlns="{NAMESPACE}"', self.body or "")
        return super().parse_body()

    def parse_error(self):
        self.body = re.sub(r'\sxmlns="[^"]*"', "", self.body or "")
        self.body = re.sub(r"<Type>[^<]*</Type>", "", self.body)
        return super().parse_error()


class UnsignedUserAgentSignerV4(AWSRequestSignerAlgorithmV4):
    """SigV4 without the User-Agent header, which botocore-based servers do not sign."""

    @staticmethod
    def _without_user_agent(headers: dict) -> dict:
        return {k: v for k, v in headers.items() if k.lower() != "user-agent"}

    def _get_signed_headers(self, headers):
        return super()._get_signed_headers(self._without_user_agent(headers))

    def _get_canonical_headers(self, headers):
        return super()._get_canonical_headers(self._without_user_agent(headers))


class CompatibleEC2Connection(EC2Connection):
    responseCls = CompatibleEC2Response

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.signer = UnsignedUserAgentSignerV4(
            access_key=self.user_id, access_secret=self.key, version=self.version, connection=self
        )


class CompatibleEC2NodeDriver(PagingEC2NodeDriver):
    """libcloud's EC2 driver for an EC2-compatible endpoint; always SigV4 (with SigV2 a
    single-port server such as moto may route the call to another service)."""

    connectionCls = CompatibleEC2Connection

    def reboot_node(self, node):
        # Some servers omit <return>true</return>; an error would have raised.
        super().reboot_node(node)
        return True


# -- the plugin --------------------------------------------------------------------------


class EC2Provider(Provider):
    """EC2 in an AWS region, or any EC2-compatible endpoint (moto, Eucalyptus, ...).

    Nodes are tagged `pcm_id` in the same call that creates them, and the create sends
    PCM's instance id as EC2's client token, so a repeated create cannot launch a second
    instance on AWS.
    """

    key = "ec2"
    label = "Amazon EC2 / EC2-compatible"
    tested_against = "moto (an EC2-compatible endpoint), in CI"
    options = (
        Option("region", "AWS region, e.g. us-east-1", required=True),
        Option("endpoint", "EC2-compatible endpoint URL; leave out for AWS itself", kind="url"),
        Option("image_owner", "Only list images of this owner (an account id, self, amazon)"),
        TIMEOUT_OPTION,
        Option("access_key", "Access key id", required=True, secret=True),
        Option("secret_key", "Secret access key", required=True, secret=True),
    )
    capabilities = CAPABILITIES
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html
    state_map = {
        "pending": Status.BUILDING,
        "running": Status.RUNNING,
        "stopping": Status.STOPPING,
        "stopped": Status.STOPPED,
        "shutting-down": Status.DELETING,
        "terminated": Status.DELETED,
    }
    # PCM sends its own client token; one request is one instance, and a repeated create
    # returns the instance the first one launched.
    idempotent_create = True
    reserved_create_params = frozenset({"ex_clienttoken", "ex_mincount", "ex_maxcount"})
    extra_types = {
        "assign_public_ip": Param("bool", "give the instance a public address"),
        "blockdevicemappings": Param("list[object]", "EC2 BlockDeviceMapping objects"),
        "ebs_optimized": Param("bool"),
        "iamprofile": Param("str", "an IAM instance profile name or ARN", privileged=True),
        "keyname": Param("str", "an EC2 key pair name"),
        "metadata": Param("dict[str,str]", "tags (PCM's own tags field does the same)"),
        "placement_group": Param("str"),
        "security_group_ids": Param("list[str]", "security group ids (in a VPC)"),
        "security_groups": Param("list[str]", "security group names"),
        "spot": Param("bool"),
        "spot_max_price": Param("number"),
        "subnet": Param("str", "a subnet id (PCM's own subnet field does the same)"),
        "terminate_on_shutdown": Param("bool"),
        "userdata": Param("str", "user data (PCM's user_data does the same)", sensitive=True),
    }
    subnet_params = frozenset({"ex_subnet"})
    user_data_params = frozenset({"ex_userdata"})
    # libcloud lists EC2 sizes from data it ships, without a call: zones are a real one.
    check_operation = "list_locations"

    @classmethod
    def validate_options(cls, options: Any) -> dict[str, Any]:
        cleaned = super().validate_options(options)
        regions = EC2NodeDriver.list_regions()
        if cleaned["region"] not in regions:
            raise ConfigError({"region": f"unknown region; known: {', '.join(sorted(regions))}"})
        return cleaned

    @classmethod
    def driver_class(cls):
        return EC2NodeDriver

    def connect(self):
        kwargs: dict[str, Any] = {"region": self.settings["region"], "timeout": self.timeout}
        driver_class = PagingEC2NodeDriver
        if endpoint := self.settings.get("endpoint"):
            parts = urlsplit(endpoint)
            secure = parts.scheme == "https"
            driver_class = CompatibleEC2NodeDriver
            kwargs.update(
                secure=secure,
                host=parts.hostname,
                port=parts.port or (443 if secure else 80),
                signature_version="4",
            )
        return driver_class(
            self.credentials["access_key"], self.credentials["secret_key"], **kwargs
        )

    def raw_status(self, node: LibcloudNode) -> str:
        return node.extra.get("status", "")

    def node_tag(self, node: LibcloudNode) -> str | None:
        return (node.extra.get("tags") or {}).get(TAG)

    def extra_objects(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(kwargs.get("ex_subnet"), str):  # libcloud reads the subnet's .id
            kwargs["ex_subnet"] = EC2NetworkSubnet(kwargs["ex_subnet"], "", "available")
        return kwargs

    def create_kwargs(self, options: CreateOptions) -> dict[str, Any]:
        kwargs = super().create_kwargs(options)
        tags = {**(kwargs.get("ex_metadata") or {}), **options.tags, TAG: options.pcm_id}
        kwargs["ex_metadata"] = tags  # the instance's tags, set by the create itself
        kwargs["ex_clienttoken"] = options.pcm_id
        if options.placement_group:
            kwargs.setdefault("ex_placement_group", options.placement_group)
        if options.subnet:
            kwargs["ex_subnet"] = EC2NetworkSubnet(options.subnet, options.subnet, "available")
        if options.user_data:
            kwargs["ex_userdata"] = options.user_data  # libcloud sends it base64-encoded
        return kwargs

    def driver_subnets(self, driver) -> list[Subnet]:
        return [
            Subnet(
                id=str(subnet.id),
                name=subnet.name or "",
                cidr=str(subnet.extra.get("cidr_block") or ""),
            )
            for subnet in driver.ex_list_subnets()
        ]

    def get_subnet(self, subnet_id: str) -> Subnet | None:
        try:
            subnets = self._read(
                "subnet lookup",
                lambda driver: driver.ex_list_subnets(subnet_ids=[subnet_id]),
            )
        except NotFoundAtProvider:
            return None
        subnet = next(iter(subnets), None)
        if subnet is None:
            return None
        return Subnet(str(subnet.id), subnet.name or "", str(subnet.extra.get("cidr_block") or ""))

    def set_tags(self, provider_id: str, pcm_id: str, tags: Mapping[str, str]) -> None:
        """CreateTags for the new and changed ones, DeleteTags for those the client
        dropped; PCM's own tag and the instance's Name (libcloud's create sets it) stay."""
        self._require("provider_tags")
        nodes = self._read("get", lambda driver: driver.list_nodes(ex_node_ids=[provider_id]))
        if not nodes:
            raise NotFoundAtProvider(provider_id)
        node = nodes[0]
        old = {k: v for k, v in (node.extra.get("tags") or {}).items() if k not in (TAG, "Name")}
        dropped = {key: value for key, value in old.items() if key not in tags}
        changed = {key: value for key, value in tags.items() if old.get(key) != value}
        if dropped:
            self._call("untag", lambda driver: driver.ex_delete_tags(node, dropped), read=False)
        if changed:
            self._call("tag", lambda driver: driver.ex_create_tags(node, changed), read=False)

    def list_images(self) -> list[Image]:
        self._require("list_images")
        owner = self.settings.get("image_owner")
        images = self._read("list images", lambda driver: driver.list_images(ex_owner=owner))
        return [Image(id=str(image.id), name=image.name or "") for image in images]

    def get_image(self, image_id: str) -> Image | None:
        try:
            images = self._read(
                "image lookup", lambda driver: driver.list_images(ex_image_ids=[image_id])
            )
        except NotFoundAtProvider:
            return None
        return Image(id=str(images[0].id), name=images[0].name or "") if images else None

    def find(self, pcm_id: str) -> Node | None:
        """The node tagged with PCM's instance id: one DescribeInstances filtered by tag."""
        nodes = self._read(
            "find", lambda driver: driver.list_nodes(ex_filters={f"tag:{TAG}": pcm_id})
        )
        live = [self._node(node) for node in nodes]
        return next((node for node in live if node.status != Status.DELETED), None)

    def get(self, provider_id: str) -> Node | None:
        try:
            nodes = self._read("get", lambda driver: driver.list_nodes(ex_node_ids=[provider_id]))
        except NotFoundAtProvider:
            return None
        return self._node(nodes[0]) if nodes else None

    def get_many(self, provider_ids: Sequence[str]) -> dict[str, Node | None]:
        """One DescribeInstances for all of them; if one id is unknown EC2 refuses the
        whole call, and then each is asked on its own."""
        try:
            nodes = self._read(
                "get", lambda driver: driver.list_nodes(ex_node_ids=list(provider_ids))
            )
        except NotFoundAtProvider:
            return {provider_id: self.get(provider_id) for provider_id in provider_ids}
        found = {node.provider_id: node for node in map(self._node, nodes)}
        return {provider_id: found.get(provider_id) for provider_id in provider_ids}

    def console_log(self, provider_id: str) -> str:
        self._require("console_log")
        output = self._read(
            "console log",
            lambda driver: driver.ex_get_console_output(self._libcloud_node(provider_id)),
        )
        return output.get("output") or ""

    def translate(self, exc: Exception, operation: str):
        # EC2 answers 400 InvalidInstanceID.NotFound / InvalidAMIID.NotFound for unknown ids.
        if isinstance(exc, BaseHTTPError) and ".NotFound" in str(exc):
            return NotFoundAtProvider(provider_detail=str(exc))
        return None
