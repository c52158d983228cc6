"""What the test cloud holds once its services answer, made through their REST APIs as an
administrator would: users and projects, the service catalogue, an image, a shared network
and flavours."""

from __future__ import annotations

import time

from lab_api import Api, project_and_user
from lab_configs import PHYSNET

# Flavours the tests map PCM's sizes to. More than a page of them (the page size is 3), so
# that listing sizes is proven to page; `m1.huge` fits no host (NoValidHost: ERROR).
FLAVORS = (
    ("m1.tiny", 1, 512, 1),
    ("m1.small", 1, 2048, 20),
    ("m1.medium", 2, 4096, 40),
    ("m1.large", 4, 8192, 80),
    ("m1.xlarge", 8, 16384, 160),
    ("m1.huge", 64, 100_000_000, 1),
)
IMAGE_NAME = "cirros-raw"
# More images than a page, so that listing images is proven to page too.
OTHER_IMAGES = ("centos-9-raw", "debian-12-raw", "ubuntu-24.04-raw")
NETWORK_NAME = "shared"


def identity(lab) -> None:
    """The service user (for keystone_authtoken and service-to-service calls), PCM's test
    user in a project of its own, and the catalogue."""
    keystone = lab.url("keystone")
    admin = Api(keystone, "admin", lab.admin_password, "admin")
    # The service user is admin in project `service` (as devstack does): Nova asks Neutron
    # to bind ports to hosts, which only an administrator may.
    project_and_user(
        admin, keystone, "service", lab.service_user, lab.service_password, ("admin", "service")
    )
    project_and_user(admin, keystone, lab.project, lab.user, lab.password)
    catalogue = {
        ("compute", "nova"): f"{lab.url('nova')}/v2.1",
        ("image", "glance"): lab.url("glance"),
        ("placement", "placement"): lab.url("placement"),
        ("network", "neutron"): lab.url("neutron"),
    }
    for (kind, name), url in catalogue.items():
        service_id = admin.call(
            "POST", f"{keystone}/v3/services", json={"service": {"type": kind, "name": name}}
        )["service"]["id"]
        for interface in ("public", "internal"):
            endpoint = {
                "service_id": service_id,
                "interface": interface,
                "url": url,
                "region_id": "RegionOne",
            }
            admin.call("POST", f"{keystone}/v3/endpoints", json={"endpoint": endpoint})


def admin_api(lab) -> Api:
    return Api(lab.url("keystone"), "admin", lab.admin_password, "admin")


def resources(lab) -> dict:
    """Image, network and flavours; what was made, by id."""
    admin = admin_api(lab)
    glance, neutron, nova = lab.url("glance"), lab.url("neutron"), f"{lab.url('nova')}/v2.1"
    images = {}
    for name in (IMAGE_NAME, *OTHER_IMAGES):
        images[name] = admin.call(
            "POST",
            f"{glance}/v2/images",
            json={
                "name": name,
                "disk_format": "raw",
                "container_format": "bare",
                "visibility": "public",
            },
        )["id"]
        admin.call(
            "PUT",
            f"{glance}/v2/images/{images[name]}/file",
            data=b"\0" * 4096,
            headers={"Content-Type": "application/octet-stream"},
        )
    network = admin.call(
        "POST",
        f"{neutron}/v2.0/networks",
        json={
            "network": {
                "name": NETWORK_NAME,
                "shared": True,
                "provider:network_type": "flat",
                "provider:physical_network": PHYSNET,
            }
        },
    )["network"]["id"]
    admin.call(
        "POST",
        f"{neutron}/v2.0/subnets",
        json={
            "subnet": {
                "network_id": network,
                "ip_version": 4,
                "cidr": "10.20.0.0/16",
                "name": f"{NETWORK_NAME}-v4",
            }
        },
    )
    flavors = {}
    for name, vcpus, ram, disk in FLAVORS:
        flavor = {"name": name, "vcpus": vcpus, "ram": ram, "disk": disk, "id": name}
        admin.call("POST", f"{nova}/flavors", json={"flavor": flavor})
        flavors[name] = name
    return {"image": images[IMAGE_NAME], "images": images, "network": network, "flavors": flavors}


def wait_for_hosts(lab, hosts, check_running, seconds: float = 120) -> None:
    """Until Nova knows the compute hosts, each with its resources in Placement;
    `check_running(host)` raises if a host's process has exited."""
    count = len(hosts)
    admin = admin_api(lab)
    deadline = time.monotonic() + seconds
    while True:
        hypervisors = admin.call("GET", f"{lab.url('nova')}/v2.1/os-hypervisors")["hypervisors"]
        providers = admin.call(
            "GET",
            f"{lab.url('placement')}/resource_providers",
            params={"resources": "VCPU:1"},
            headers={"OpenStack-API-Version": "placement 1.4"},
        )["resource_providers"]
        if len(hypervisors) >= count and len(providers) >= count:
            return
        for host in hosts:
            check_running(host)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(hypervisors)} of {count} compute hosts came up")
        time.sleep(0.5)
