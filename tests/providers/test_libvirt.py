"""The libvirt plugin against libvirt's own test hypervisor (test:///default, in-process).

libvirt-python needs the libvirt C library to build. Where it is missing the tests skip,
unless PCM_REQUIRE_LIBVIRT is set (CI sets it): there they must run.
"""

from __future__ import annotations

import os

import pytest

from providers.base import ProviderError, Unsupported
from providers.libvirt import LibvirtProvider
from providers.status import Status

if not os.environ.get("PCM_REQUIRE_LIBVIRT"):
    pytest.importorskip("libvirt", reason="libvirt-python is not installed (see README)")


@pytest.fixture
def hypervisor() -> LibvirtProvider:
    provider = LibvirtProvider({"uri": "test:///default", "timeout": 5}, {})
    node = provider.list()[0]
    if node.status != Status.RUNNING:  # the test driver's state lives as long as the process
        provider.start(node.provider_id)
    return provider


def test_it_lists_the_domains_by_uuid(hypervisor):
    nodes = hypervisor.list()

    assert [node.name for node in nodes] == ["test"]
    assert len(nodes[0].provider_id) == 36  # a UUID: libvirt's numeric ids change at start
    assert (nodes[0].status, nodes[0].raw_status) == (Status.RUNNING, "running")


def test_stop_start_and_reboot(hypervisor):
    domain = hypervisor.list()[0].provider_id

    hypervisor.stop(domain)
    stopped = hypervisor.get(domain)
    assert (stopped.status, stopped.raw_status) == (Status.STOPPED, "shutoff")

    hypervisor.start(domain)
    assert hypervisor.get(domain).status == Status.RUNNING

    hypervisor.reboot(domain)
    assert hypervisor.get(domain).status == Status.RUNNING


def test_an_unknown_domain_is_none(hypervisor):
    assert hypervisor.get("00000000-0000-0000-0000-000000000000") is None


@pytest.mark.parametrize("operation", ["create", "list_sizes", "list_images", "console_log"])
def test_what_libclouds_libvirt_driver_cannot_do_is_unsupported(hypervisor, operation):
    calls = {
        "create": lambda: hypervisor.create("x", "s", "i", None),
        "list_sizes": hypervisor.list_sizes,
        "list_images": hypervisor.list_images,
        "console_log": lambda: hypervisor.console_log("x"),
    }

    with pytest.raises(Unsupported):
        calls[operation]()


def test_an_unreachable_hypervisor_is_a_transient_error():
    provider = LibvirtProvider(
        {"uri": "qemu+tcp://127.0.0.1:1/system", "timeout": 5}, {"username": "u", "password": "p"}
    )

    with pytest.raises(ProviderError) as error:
        provider.list()

    assert error.value.transient is True
    assert "Cannot reach the hypervisor" in error.value.message


def test_a_malformed_uri_is_a_permanent_error():
    provider = LibvirtProvider({"uri": "::bad::", "timeout": 5}, {})

    with pytest.raises(ProviderError) as error:
        provider.list()

    assert error.value.transient is False
    assert "Unable to parse URI" in error.value.message
