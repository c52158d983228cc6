"""libvirt hypervisors (KVM/QEMU, Xen, the test driver): list and power operations.

libcloud's libvirt driver cannot create domains, list sizes or list images, so this
plugin manages domains that exist already. libvirt-python is optional: it needs the
libvirt C library (Debian: libvirt-dev pkg-config) to build; `requirements-libvirt.txt`.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

from libcloud.compute.base import Node as LibcloudNode

from providers.base import (
    TIMEOUT_OPTION,
    NotFoundAtProvider,
    Option,
    Provider,
    ProviderError,
)
from providers.status import Status

try:
    import libvirt
    from libcloud.compute.drivers.libvirt_driver import LibvirtNodeDriver

    # libvirt prints every error to stderr as well as raising it; raising is enough.
    libvirt.registerErrorHandler(lambda context, error: None, None)
except ImportError:  # pragma: no cover - depends on the machine
    libvirt = None
    LibvirtNodeDriver = None

T = TypeVar("T")

# virDomainState, as numbers in domain.info() and as the names PCM shows raw.
DOMAIN_STATES = {
    0: "nostate",
    1: "running",
    2: "blocked",
    3: "paused",
    4: "shutdown",
    5: "shutoff",
    6: "crashed",
    7: "pmsuspended",
}


def _driver_class():
    if LibvirtNodeDriver is None:
        raise ProviderError(
            "libvirt-python is not installed on this PCM host (pip install -r "
            "requirements-libvirt.txt, after installing libvirt-dev and pkg-config)",
            transient=False,
        )

    class RawStateLibvirtDriver(LibvirtNodeDriver):
        """Keeps libvirt's own domain state on the node: libcloud maps paused, shutdown
        and shut off all to TERMINATED."""

        def _to_node(self, domain):
            node = super()._to_node(domain)
            node.extra["state"] = DOMAIN_STATES.get(domain.info()[0], "nostate")
            return node

    return RawStateLibvirtDriver


class LibvirtProvider(Provider):
    """A libvirt hypervisor by URI (qemu:///system, qemu+ssh://host/system, test:///default).

    A domain's provider id is its UUID: libvirt's numeric ids change at every start.
    """

    key = "libvirt"
    label = "libvirt (list and power only)"
    tested_against = "libvirt's test hypervisor (test:///default), in CI"
    options = (
        Option("uri", "libvirt URI, e.g. qemu+ssh://root@kvm1/system", required=True),
        TIMEOUT_OPTION,
        Option("username", "User name, for qemu+tcp:// URIs with SASL", secret=True),
        Option("password", "Password, for qemu+tcp:// URIs with SASL", secret=True),
    )
    capabilities = frozenset({"reboot", "start", "stop"})
    check_operation = "list"
    node_getter = "ex_get_node_by_uuid"
    state_map = {
        "running": Status.RUNNING,
        "blocked": Status.RUNNING,
        "paused": Status.STOPPED,
        "shutdown": Status.STOPPING,
        "shutoff": Status.STOPPED,
        "crashed": Status.ERROR,
        "pmsuspended": Status.STOPPED,
        "nostate": Status.UNKNOWN,
    }

    @classmethod
    def driver_class(cls):
        return _driver_class()

    @classmethod
    def extra_params(cls) -> dict[str, str]:
        return {}  # nothing is created through libcloud's libvirt driver

    def connect(self):
        return _driver_class()(
            self.settings["uri"], self.credentials.get("username"), self.credentials.get("password")
        )

    def provider_id(self, node: LibcloudNode) -> str:
        return node.extra["uuid"]

    def raw_status(self, node: LibcloudNode) -> str:
        return node.extra.get("state", "")

    def _libcloud_node(self, provider_id: str) -> LibcloudNode:
        node = LibcloudNode(provider_id, None, None, [], [], self.driver)
        node._uuid = provider_id  # libcloud finds libvirt domains by node.uuid
        return node

    def _call(self, operation: str, fn: Callable[[Any], T], *, read: bool) -> T:
        """libvirt calls are not HTTP and take no timeout: run them in a thread and stop
        waiting after the cloud's timeout (the call itself finishes or fails on its own)."""
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        future = pool.submit(super()._call, operation, fn, read=read)
        pool.shutdown(wait=False)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            raise ProviderError(
                f"The hypervisor did not answer the {operation} within {self.timeout} s",
                transient=True,
            ) from None

    def translate(self, exc: Exception, operation: str):
        if libvirt is None or not isinstance(exc, libvirt.libvirtError):
            return None
        code, detail = exc.get_error_code(), str(exc)
        if code == libvirt.VIR_ERR_NO_DOMAIN:
            return NotFoundAtProvider(provider_detail=detail)
        if code == libvirt.VIR_ERR_NO_SUPPORT:
            return None  # the shared rules say "failed"; the message names the operation
        transient = code in (
            libvirt.VIR_ERR_SYSTEM_ERROR,
            libvirt.VIR_ERR_RPC,
            libvirt.VIR_ERR_NO_CONNECT,
            libvirt.VIR_ERR_OPERATION_TIMEOUT,
        )
        message = (
            f"Cannot reach the hypervisor for the {operation}"
            if transient
            else f"The {operation} failed: {detail}"
        )
        return ProviderError(message, transient=transient, provider_detail=detail)
