"""`Provider`: the base class of every compute plugin, and the operations it shares.

A plugin subclasses `Provider`, declares its options, capabilities and state map, and says
how to build its libcloud driver; every call to the cloud goes through `Provider._call`.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from libcloud.compute.base import Node as LibcloudNode
from libcloud.compute.base import NodeDriver, NodeImage, NodeSize

from providers import outbound, telemetry
from providers.base.data import CreateOptions, Image, Location, Node, Size, Subnet
from providers.base.errors import (
    ExtraError,
    NotFoundAtProvider,
    ProviderError,
    Unsupported,
    throttled,
    translate,
    worth_asking_again,
)
from providers.base.extra import Param
from providers.base.extra import check as extra_check
from providers.options import Configurable, Option
from providers.status import Status

logger = logging.getLogger("providers.base")

# Every HTTP connection a driver opens is checked against its cloud's address policy.
outbound.install()

T = TypeVar("T")

DEFAULT_TIMEOUT = 30  # seconds; libcloud's own default is 60

TIMEOUT_OPTION = Option(
    "timeout",
    f"Seconds before a provider call is abandoned (default {DEFAULT_TIMEOUT})",
    kind="int",
)


class Provider(Configurable):
    """Base of every compute plugin: one cloud's connection, built from plain data.

    Subclasses declare `key` (stored on the cloud), `label`, `options` (secret ones are the
    credentials), `capabilities` and `state_map` (the provider's own states to PCM's), and
    implement `connect()` (the libcloud driver), `driver_class()` and `raw_status()`.
    """

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    tested_against: ClassVar[str] = "not yet tested against a live cloud"
    options: ClassVar[tuple[Option, ...]] = ()
    capabilities: ClassVar[frozenset[str]] = frozenset()
    state_map: ClassVar[dict[str, Status]] = {}
    # create_node() parameters a client may set through `extra` without the `ex_` prefix,
    # and `ex_` parameters PCM sets itself.
    plain_create_params: ClassVar[frozenset[str]] = frozenset()
    reserved_create_params: ClassVar[frozenset[str]] = frozenset()
    # The type of each `extra` key (without `ex_`); a driver argument not declared here is
    # not offered (providers/base/extra.py).
    extra_types: ClassVar[dict[str, Param]] = {}
    read_attempts: ClassVar[int] = 3
    # The light call that proves the cloud answers and accepts the credentials.
    check_operation: ClassVar[str] = "list_sizes"
    # A driver method that returns one node by provider id (None, or a 404, when there is
    # none); without one, get() looks through list().
    node_getter: ClassVar[str] = ""
    # Whether actions need the node as the driver reports it (GCE's zone, Azure's network
    # interfaces), fetched with node_getter, rather than a node object with just its id.
    actions_need_full_node: ClassVar[bool] = False
    # Whether the cloud itself makes a repeated create a no-op (EC2's client token): then a
    # create whose answer was lost may be sent again at once; elsewhere PCM first looks for
    # the node's tag for as long as the cloud may take to list a new node.
    idempotent_create: ClassVar[bool] = False
    # Whether anti-affinity names the peers' nodes by where they are now (Nova's
    # different_host): a peer the cloud is still placing is on no host yet, so a hint that
    # names it keeps nothing apart. A spread create then waits for the earlier creates of
    # its role to be built first.
    spread_waits_for_peers: ClassVar[bool] = False
    # The create_node() arguments that PCM's subnet and user data fill (where the plugin
    # has the "subnets" and "user_data" capabilities): a client's `extra` may not set them
    # too.
    subnet_params: ClassVar[frozenset[str]] = frozenset()
    user_data_params: ClassVar[frozenset[str]] = frozenset()

    # A throttled call (HTTP 429, EC2's RequestLimitExceeded) was refused, not run: it is
    # retried after 1, 2, 4 s, reads and writes alike.
    throttle_retries: ClassVar[int] = 3
    throttle_backoff: ClassVar[float] = 1.0

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        guard: Any = None,
        outbound_policy: outbound.Policy | None = None,
    ):
        self.settings = dict(settings)
        self.credentials = dict(credentials)
        # Where the driver may connect (None: the site's default policy).
        self.outbound_policy = outbound_policy
        self._driver: NodeDriver | None = None
        # Optional: an object with before_call() and after_call(reached=...) (a circuit
        # breaker) and the cloud's `name`; PCM gives one per cloud (clouds/breaker.py).
        self.guard = guard

    @property
    def cloud_name(self) -> str:
        """The cloud's name in logs and metrics (the plugin's key for a bare Provider)."""
        return getattr(self.guard, "name", "") or self.key

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} {self.settings!r}>"

    # -- declarations -------------------------------------------------------------------

    @classmethod
    def driver_class(cls) -> type[NodeDriver]:
        """The libcloud driver class `connect()` instantiates (for introspection)."""
        raise NotImplementedError

    @classmethod
    def extra_params(cls) -> dict[str, str]:
        """Keys a client may put in `extra` -> the create_node() argument each becomes: the
        driver's arguments that the plugin declares a type for (`extra_types`)."""
        if not cls.extra_types:  # nothing offered: no driver to look at
            return {}
        params = inspect.signature(cls.driver_class().create_node).parameters
        accepted = {}
        for name in params:
            if name.startswith("ex_") and name not in cls.reserved_create_params:
                accepted[name.removeprefix("ex_")] = name
            elif name in cls.plain_create_params:
                accepted[name] = name
        return {key: name for key, name in accepted.items() if key in cls.extra_types}

    @classmethod
    def extra_declared(cls) -> dict[str, Param]:
        """The `extra` keys this plugin takes, with their types."""
        accepted = cls.extra_params()
        return {key: param for key, param in cls.extra_types.items() if key in accepted}

    @classmethod
    def extra_kwargs(
        cls, extra: Mapping[str, Any] | None, allowed: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """`extra` as create_node() keyword arguments (plain JSON values); ExtraError says
        what is wrong: an unknown key, a wrong type, a key the cloud does not allow."""
        accepted = cls.extra_params()
        checked = extra_check(extra, cls.extra_declared(), allowed)
        return {accepted[key]: value for key, value in checked.items()}

    def extra_objects(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The create_node() arguments with the objects libcloud wants made from the plain
        values the client gave (an EC2 subnet id, OpenStack network ids)."""
        return kwargs

    # -- what each plugin provides ------------------------------------------------------

    @property
    def timeout(self) -> int:
        return self.settings.get("timeout") or DEFAULT_TIMEOUT

    def connect(self) -> NodeDriver:
        raise NotImplementedError

    def raw_status(self, node: LibcloudNode) -> str:
        """The provider's own word for the node's state."""
        raise NotImplementedError

    def abstract_status(self, raw: str) -> Status:
        """PCM's status for the provider's own word (the plugin's state map)."""
        return self.state_map.get(raw, Status.UNKNOWN)

    def node_tag(self, node: LibcloudNode) -> str | None:
        """PCM's instance id as tagged on the node, if any."""
        return None

    def node_error(self, node: LibcloudNode) -> str:
        """Why the node is in an error state, as the cloud says it ("" where it does not)."""
        return ""

    def create_kwargs(self, options: CreateOptions) -> dict[str, Any]:
        """create_node() arguments: the client's extra, PCM's tag, anti-affinity hints."""
        return self.extra_objects(self.extra_kwargs(options.extra))

    def translate(self, exc: Exception, operation: str) -> ProviderError | None:
        """A plugin's own reading of an error (None: the shared rules apply)."""
        return None

    # -- operations ---------------------------------------------------------------------

    def list_sizes(self) -> list[Size]:
        self._require("list_sizes")
        sizes = self._read("list sizes", lambda driver: driver.list_sizes())
        return [self._size(size) for size in sizes]

    def list_images(self) -> list[Image]:
        self._require("list_images")
        images = self._read("list images", lambda driver: driver.list_images())
        return [Image(id=str(image.id), name=image.name or "") for image in images]

    def get_image(self, image_id: str) -> Image | None:
        """One image by its provider id, or None when the provider has no such image."""
        return next((image for image in self.list_images() if image.id == image_id), None)

    def list_locations(self) -> list[Location]:
        self._require("list_locations")
        locations = self._read("list locations", lambda driver: driver.list_locations())
        return [Location(id=str(loc.id), name=loc.name or "") for loc in locations]

    def list_subnets(self) -> list[Subnet]:
        """The subnets (or networks) a node can be put on."""
        self._require("list_subnets")
        return self._read("list subnets", self.driver_subnets)

    def driver_subnets(self, driver: NodeDriver) -> list[Subnet]:
        """The plugin's listing of subnets through its driver ("list_subnets")."""
        raise Unsupported("list_subnets")

    def get_subnet(self, subnet_id: str) -> Subnet | None:
        """One subnet by its provider id, or None when the provider has no such subnet."""
        return next((subnet for subnet in self.list_subnets() if subnet.id == subnet_id), None)

    def set_tags(self, provider_id: str, pcm_id: str, tags: Mapping[str, str]) -> None:
        """Make the node's own tags (or metadata) the client's `tags`, and PCM's tag (the
        instance's `pcm_id`)."""
        raise Unsupported("provider_tags")

    def create(
        self,
        name: str,
        provider_size_id: str,
        provider_image_id: str,
        options: CreateOptions,
    ) -> Node:
        """Create a node. Never retried here: after a timeout the node may exist, and a
        second call could launch a duplicate. Callers look for the tag (`find`) instead."""
        self._require("create")
        try:
            kwargs = self.create_kwargs(options)
        except ExtraError as exc:  # checked before the 202; a plugin changed since
            raise ProviderError(
                f"The create's extra cannot be sent: {exc}", transient=False, maybe_done=False
            ) from None

        def create(driver: NodeDriver) -> LibcloudNode:
            size = self._size_arg(driver, provider_size_id)
            image = self._image_arg(driver, provider_image_id)
            return driver.create_node(name=name, size=size, image=image, **kwargs)

        return self._node(self._call("create", create, read=False))

    def list(self) -> list[Node]:
        """Every node of the cloud, in one provider call (for reconciliation)."""
        return [self._node(node) for node in self._read("list", lambda d: d.list_nodes())]

    def get(self, provider_id: str) -> Node | None:
        """The node, or None when the provider no longer knows it."""
        if not self.node_getter:
            return next((node for node in self.list() if node.provider_id == provider_id), None)
        try:
            node = self._read("get", lambda driver: getattr(driver, self.node_getter)(provider_id))
        except NotFoundAtProvider:
            return None
        return self._node(node) if node else None

    @property
    def gets_many_in_one_call(self) -> bool:
        """Whether get_many asks the cloud once whatever the number of ids: a plugin
        without a single-node getter lists the nodes (or, like EC2, asks for the ids)."""
        return not self.node_getter

    def get_many(self, provider_ids: Sequence[str]) -> dict[str, Node | None]:
        """Several nodes by id (None: the provider no longer knows it): one list call, or
        one call per node where the plugin has a single-node getter."""
        if self.node_getter:
            return {provider_id: self.get(provider_id) for provider_id in provider_ids}
        nodes = {node.provider_id: node for node in self.list()}
        return {provider_id: nodes.get(provider_id) for provider_id in provider_ids}

    def find(self, pcm_id: str) -> Node | None:
        """The node tagged with PCM's instance id, if a create got that far."""
        return next((node for node in self.list() if node.pcm_id == pcm_id), None)

    def destroy(self, provider_id: str) -> None:
        self._act("destroy", "destroy_node", provider_id)

    def reboot(self, provider_id: str) -> None:
        self._act("reboot", "reboot_node", provider_id)

    def start(self, provider_id: str) -> None:
        self._act("start", "start_node", provider_id)

    def stop(self, provider_id: str) -> None:
        self._act("stop", "stop_node", provider_id)

    def console_log(self, provider_id: str) -> str:
        raise Unsupported("console_log")

    def check(self) -> float:
        """Reach the cloud once (`check_operation`); the latency in milliseconds."""
        started = time.monotonic()
        getattr(self, self.check_operation)()
        return (time.monotonic() - started) * 1000

    # -- machinery ----------------------------------------------------------------------

    @property
    def driver(self) -> NodeDriver:
        if self._driver is None:
            try:
                with outbound.within(self.outbound_policy):
                    self._driver = self.connect()
            except Exception as exc:
                raise self._translate(exc, "connect") from None
        return self._driver

    def _require(self, capability: str) -> None:
        if capability not in self.capabilities:
            raise Unsupported(capability)

    def _libcloud_node(self, provider_id: str) -> LibcloudNode:
        """A node object for an action: most drivers need only its id."""
        if self.actions_need_full_node:
            return getattr(self.driver, self.node_getter)(provider_id)
        return LibcloudNode(provider_id, None, None, [], [], self.driver)

    def _size_arg(self, driver: NodeDriver, provider_size_id: str) -> Any:
        return NodeSize(provider_size_id, provider_size_id, 0, 0, 0, 0, driver)

    def _image_arg(self, driver: NodeDriver, provider_image_id: str) -> Any:
        return NodeImage(provider_image_id, provider_image_id, driver)

    def _act(self, operation: str, method: str, provider_id: str) -> None:
        self._require(operation)
        done = self._call(
            operation,
            lambda driver: getattr(driver, method)(self._libcloud_node(provider_id)),
            read=False,
        )
        if done is False:
            raise ProviderError(f"The cloud did not confirm the {operation}", transient=True)

    def provider_id(self, node: LibcloudNode) -> str:
        return str(node.id)

    def _node(self, node: LibcloudNode) -> Node:
        raw = str(self.raw_status(node) or "")
        status = self.abstract_status(raw)
        return Node(
            provider_id=self.provider_id(node),
            name=node.name or "",
            status=status,
            raw_status=raw,
            pcm_id=self.node_tag(node),
            public_ips=tuple(node.public_ips or ()),
            private_ips=tuple(node.private_ips or ()),
            created_at=getattr(node, "created_at", None),
            error=self.node_error(node) if status == Status.ERROR else "",
        )

    @staticmethod
    def _size(size: NodeSize) -> Size:
        extra = size.extra or {}
        vcpus = getattr(size, "vcpus", None) or extra.get("vcpus") or extra.get("vcpu")
        return Size(
            id=str(size.id),
            name=size.name or "",
            vcpus=int(vcpus) if re.fullmatch(r"[0-9]+", str(vcpus or "")) else None,
            ram_mb=int(size.ram) if size.ram else None,
            disk_gb=int(size.disk) if size.disk else None,
        )

    def _read(self, operation: str, fn: Callable[[NodeDriver], T]) -> T:
        return self._call(operation, fn, read=True)

    def _call(self, operation: str, fn: Callable[[NodeDriver], T], *, read: bool) -> T:
        """Run one libcloud call: every failure becomes a ProviderError. Reads are retried
        (briefly) when the connection failed or the cloud answered 5xx; timeouts are not,
        so a call never takes much longer than the cloud's timeout, and writes never are,
        unless the cloud refused them as throttled (then they did not run). Every provider
        call goes through here:
        each attempt is timed, counted and logged (providers/telemetry.py)."""
        if self.guard is not None:
            self.guard.before_call()
        attempt = throttles = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                with outbound.within(self.outbound_policy):
                    result = fn(self.driver)
            except Exception as exc:
                error = self._translate(exc, operation)
                telemetry.provider_call(self.cloud_name, operation, started, error.message)
                if throttled(exc) and throttles < self.throttle_retries:
                    throttles += 1
                    logger.info("%s on %s throttled; retrying", operation, self.key)
                    time.sleep(self.throttle_backoff * 2 ** (throttles - 1))
                    continue
                if read and attempt < self.read_attempts and worth_asking_again(exc):
                    logger.info(
                        "%s on %s failed (%s); retrying", operation, self.key, error.message
                    )
                    time.sleep(0.1 * attempt)
                    continue
                if self.guard is not None:
                    self.guard.after_call(reached=not error.transient)
                raise error from None
            telemetry.provider_call(self.cloud_name, operation, started)
            if self.guard is not None:
                self.guard.after_call(reached=True)
            return result

    def _translate(self, exc: Exception, operation: str) -> ProviderError:
        error = exc if isinstance(exc, ProviderError) else self.translate(exc, operation)
        if error is None:
            error = translate(exc, operation, self.timeout)
        # The cloud's own words reach API clients short and clean; the log has them whole.
        full = self._scrub(error.provider_detail)
        error.message = outbound.short(self._scrub(error.message), 2 * outbound.SHORT)
        error.provider_detail = outbound.short(full)
        if error.provider_detail != full:
            logger.warning("%s on %s: the cloud answered %r", operation, self.cloud_name, full)
        return error

    def _scrub(self, text: str) -> str:
        """Remove any credential value from a message before it is logged or shown."""
        for value in self.credentials.values():
            if isinstance(value, str) and len(value) >= 4:
                text = text.replace(value, "***")
        return text
