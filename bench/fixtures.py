"""What the sections share: the site under test (`Site`), PCM's database made ready and
emptied between measures, instance rows written directly, the cloud pointed at moto or at
moto behind the latency proxy, and waiting for instances to reach a status."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_q.models import OrmQ, Task

from clouds.models import AbstractImage, AbstractSize, Cloud, Environment
from instances.models import Instance, InstanceEvent
from pcm.tokens import create_token
from providers.inventory.models import NameSequence, SystemRecord
from tests import fault_proxy
from tests.peers import Moto


@dataclass
class Site:
    """PCM as every section finds it: one gunicorn (-w 2) at `base`, an admin's token, the
    demo's AWSLAB-1 cloud at `moto`."""

    base: str
    web: subprocess.Popen
    headers: dict
    cloud: Cloud
    moto: Moto

    def instances_url(self, base: str | None = None) -> str:
        return f"{base or self.base}/pcm_api/v2/clouds/{self.cloud.name}/instances"


def setup(moto_url: str) -> tuple[str, Cloud]:
    """The demo configuration with AWSLAB-1 at our moto, without quotas; admin's token."""
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("pcm_demo", stdout=quiet)
    Cloud.objects.filter(name="AWSLAB-1").update(
        options={"region": "us-east-1", "endpoint": moto_url, "timeout": 30},
        quota_instances=None,
        quota_vcpus=None,
        quota_ram_mb=None,
    )
    admin = get_user_model().objects.get(username="admin")
    return create_token(admin, name="bench")[1], Cloud.objects.get(name="AWSLAB-1")


def clear_instances() -> None:
    for model in (InstanceEvent, Instance, SystemRecord, NameSequence, OrmQ, Task):
        model.objects.all().delete()


def make_rows(cloud: Cloud, count: int, provider_ids: list[str] | None = None) -> list[str]:
    """Instance rows straight into the database (for reads, lists and reconciliation)."""
    size, image = AbstractSize.objects.get(name="small"), AbstractImage.objects.get(name="centos-9")
    env = Environment.objects.get(name="dev")
    rows = [
        Instance(
            id=uuid.uuid4(),
            cloud=cloud,
            name=f"bench-{n:05}",
            environment=env,
            size=size,
            image=image,
            provider_size_id="t3.small",
            provider_image_id="ami-760aaa0f",
            provider_id=provider_ids[n] if provider_ids else f"i-bench{n:012x}",
            status="running",
            raw_status="running",
            inventory_synced=True,
        )
        for n in range(count)
    ]
    Instance.objects.bulk_create(rows, batch_size=1000)
    return [str(row.id) for row in rows]


def point_at(cloud: Cloud, url: str, timeout: int = 30) -> None:
    Cloud.objects.filter(pk=cloud.pk).update(
        options={"region": "us-east-1", "endpoint": url, "timeout": timeout}
    )


@contextlib.contextmanager
def slow_cloud(site: Site, delay: float):
    """The cloud behind the latency proxy: every provider call `delay` seconds longer, as a
    real cloud's API is; back at moto afterwards. Yields the proxy's Faults."""
    faults = fault_proxy.Faults()
    faults.delay = delay
    with fault_proxy.proxy(site.moto.url, faults) as url:
        point_at(site.cloud, url)
        try:
            yield faults
        finally:
            point_at(site.cloud, site.moto.url)


def wait_for(status: str, count: int, seconds: float = 600) -> float:
    """time.monotonic() once `count` instances have `status`; an instance in error fails."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if Instance.objects.filter(status=status).count() >= count:
            return time.monotonic()
        failed = Instance.objects.filter(status="error").first()
        if failed is not None:
            raise RuntimeError(failed.last_error)
        time.sleep(0.05)
    raise RuntimeError(f"not all instances reached {status}")
