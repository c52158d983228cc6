"""Fixtures for the instance API: configured clouds at real peers, and a worker.

`worker.run()` does in-process what a qcluster does: it takes the tasks queued in
django-q2's ORM broker and runs them, and runs the follow-ups queued for later as if
their time had come. (tests/instances/test_qcluster.py runs a real qcluster.)
"""

from __future__ import annotations

import pydoc

import pytest
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from tests import fault_proxy
from tests.factories import (
    AbstractImageFactory,
    AbstractSizeFactory,
    CloudFactory,
    EnvironmentFactory,
    ImageMappingFactory,
    RoleFactory,
    SizeMappingFactory,
)

AMI = "ami-760aaa0f"


class Worker:
    def __init__(self, capture):
        self.capture = capture
        self.broker = get_broker()
        self.ran: list[str] = []
        # Every task run by this worker: (function, args, kwargs, result), as a qcluster
        # would save them (a test can look for what must not be there).
        self.history: list[tuple] = []

    def _call(self, func: str, args, kwargs) -> None:
        self.ran.append(func.rsplit(".", 1)[1])
        with self.capture(execute=True):
            result = pydoc.locate(func)(*args, **kwargs)
        self.history.append((func, args, kwargs, result))

    def run(self, *, later: bool = True, rounds: int = 50) -> list[str]:
        """Run queued tasks (and, with `later`, scheduled ones) until none is left."""
        self.ran = []
        for _ in range(rounds):
            did = False
            for task_id, payload in self.broker.dequeue() or []:
                task = SignedPackage.loads(payload)
                self.broker.acknowledge(task_id)
                self._call(task["func"], task["args"], task["kwargs"])
                did = True
            if later and not did:
                # Nothing is due: let the time of the next delayed task come.
                waiting = OrmQ.objects.filter(lock__gt=timezone.now()).order_by("lock").first()
                if waiting is not None:
                    OrmQ.objects.filter(pk=waiting.pk).update(lock=timezone.now())
                    did = True
            if not did:
                return self.ran
        raise AssertionError(f"the queue did not drain: {self.ran[-20:]}")


@pytest.fixture
def worker(django_capture_on_commit_callbacks, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "poll": 0}
    return Worker(django_capture_on_commit_callbacks)


class Api:
    """bob's API client; every call runs its on-commit work (enqueuing) like a server."""

    def __init__(self, client, capture):
        self.client = client
        self.capture = capture

    def __getattr__(self, method):
        call = getattr(self.client, method)

        def wrapped(*args, **kwargs):
            kwargs.setdefault("format", "json") if method in ("post", "put", "patch") else None
            with self.capture(execute=True):
                return call(*args, **kwargs)

        return wrapped


@pytest.fixture
def client_api(api, django_capture_on_commit_callbacks):
    return Api(api, django_capture_on_commit_callbacks)


@pytest.fixture
def catalogue(db):
    """Sizes, images, roles and environments like the demo's."""
    sizes = {
        "small": AbstractSizeFactory(name="small", vcpus=1, ram_mb=2048, disk_gb=20),
        "medium": AbstractSizeFactory(name="medium", vcpus=2, ram_mb=4096, disk_gb=40),
        "xlarge": AbstractSizeFactory(name="xlarge", vcpus=16, ram_mb=65536, disk_gb=320),
    }
    images = {"centos-9": AbstractImageFactory(name="centos-9")}
    dev = EnvironmentFactory(name="dev")
    EnvironmentFactory(name="prod")
    web = RoleFactory(
        name="web",
        allowed_sizes=[sizes["small"], sizes["medium"]],
        default_size=sizes["small"],
        spread_over_hosts=True,
    )
    RoleFactory(name="db", allowed_sizes=[sizes["medium"], sizes["xlarge"]])
    return {"sizes": sizes, "images": images, "dev": dev, "web": web}


@pytest.fixture
def aws(moto, catalogue):
    """AWSLAB-1 at moto, with small, medium and xlarge (above its limits) mapped."""
    cloud = CloudFactory(
        name="AWSLAB-1",
        options={"region": "us-east-1", "endpoint": moto.url, "timeout": 10},
        max_vcpus=8,
        default_environment=catalogue["dev"],
        default_image=catalogue["images"]["centos-9"],
    )
    for name, flavour in (("small", "t3.small"), ("medium", "t3.medium"), ("xlarge", "c5.4xlarge")):
        SizeMappingFactory(cloud=cloud, size=catalogue["sizes"][name], provider_size_id=flavour)
    ImageMappingFactory(cloud=cloud, image=catalogue["images"]["centos-9"], provider_image_id=AMI)
    return cloud


@pytest.fixture
def ec2_calls(aws, moto):
    """AWSLAB-1's EC2 calls go through a recording proxy in front of moto: a test counts
    the creates that reached the cloud (`ec2_calls.tokens("RunInstances")`), not only the
    nodes (a repeated client token would hide a second create where EC2 honours it)."""
    recorded = fault_proxy.Faults()  # no fault set: it only forwards and records
    with fault_proxy.proxy(moto.url, recorded) as url:
        aws.options = {**aws.options, "endpoint": url}
        aws.save()
        yield recorded


@pytest.fixture
def snv(mimic, catalogue):
    """SNV-LAB-1 at mimic (a tenant of its own)."""
    from clouds.services import provider_for

    options, credentials = mimic.options()
    cloud = CloudFactory(
        name="SNV-LAB-1",
        provider="openstack",
        options=options,
        credentials=credentials,
        default_environment=catalogue["dev"],
        default_image=catalogue["images"]["centos-9"],
    )
    image = provider_for(cloud).list_images()[0].id
    for name, flavour in (("small", "2"), ("medium", "3"), ("xlarge", "compute1-60")):
        SizeMappingFactory(cloud=cloud, size=catalogue["sizes"][name], provider_size_id=flavour)
    ImageMappingFactory(cloud=cloud, image=catalogue["images"]["centos-9"], provider_image_id=image)
    return cloud


@pytest.fixture
def openstack_tenant(openstack):
    """A project and user of its own at the real OpenStack (tests/openstack_lab.py)."""
    return openstack.tenant()


@pytest.fixture
def snv_openstack(openstack, openstack_tenant, catalogue):
    """SNV-LAB-1 at the real OpenStack, Keystone v3 (the plugin's default), in a project of
    its own; small, medium and xlarge mapped to Nova flavours, centos-9 to a Glance image."""
    cloud = CloudFactory(
        name="SNV-LAB-1",
        provider="openstack",
        options=openstack_tenant.options(),
        credentials=openstack_tenant.credentials(),
        default_environment=catalogue["dev"],
        default_image=catalogue["images"]["centos-9"],
    )
    for name, flavour in (("small", "m1.small"), ("medium", "m1.medium"), ("xlarge", "m1.xlarge")):
        SizeMappingFactory(cloud=cloud, size=catalogue["sizes"][name], provider_size_id=flavour)
    image = openstack.info["image"]
    ImageMappingFactory(cloud=cloud, image=catalogue["images"]["centos-9"], provider_image_id=image)
    return cloud
