"""Tasks run again after a crash create nothing twice; failures end in error, with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clouds.services import provider_for
from instances import provisioning
from instances.models import Instance
from providers.base import CreateOptions

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def live_nodes(cloud):
    return [n for n in provider_for(cloud).list() if n.status != "deleted"]


def test_a_provision_run_twice_creates_one_node(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()

    provisioning.provision(body["id"])  # a redelivered task

    assert len(live_nodes(aws)) == 1


def test_a_rerun_after_a_crash_past_the_provider_call_adopts_the_node(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.broker.purge_queue()
    instance = Instance.objects.get(pk=body["id"])
    # The worker created the node, then died before saving the provider id.
    node = provider_for(aws).create(
        instance.name, "t3.small", instance.provider_image_id, CreateOptions(pcm_id=body["id"])
    )
    Instance.objects.filter(pk=instance.pk).update(
        status="building", attempts=1, busy_until=timezone.now() - timedelta(seconds=1)
    )

    provisioning.provision(body["id"])

    instance.refresh_from_db()
    assert instance.provider_id == node.provider_id
    assert instance.status == "running"
    assert len(live_nodes(aws)) == 1


def test_a_second_delivery_while_the_first_holds_the_lease_waits(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.broker.purge_queue()
    Instance.objects.filter(pk=body["id"]).update(busy_until=timezone.now() + timedelta(minutes=1))

    provisioning.provision(body["id"])

    assert live_nodes(aws) == []
    assert Instance.objects.get(pk=body["id"]).attempts == 0


def test_an_instance_is_error_after_the_attempts_run_out(client_api, aws, worker, settings):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.broker.purge_queue()
    Instance.objects.filter(pk=body["id"]).update(attempts=settings.PCM_MAX_ATTEMPTS)

    provisioning.provision(body["id"])

    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "error"
    assert instance.last_error == f"gave up after {settings.PCM_MAX_ATTEMPTS} attempts"
    assert live_nodes(aws) == []


def test_a_permanent_provider_error_is_error_with_the_reason_and_frees_the_name(
    client_api, aws, worker
):
    from providers.inventory.models import SystemRecord

    aws.size_mappings.filter(size__name="small").update(provider_size_id="t3.imaginary")
    body = client_api.post(URL, {"size": "small"}).json()

    worker.run()

    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "error"
    assert "t3.imaginary" in instance.last_error
    assert not SystemRecord.objects.filter(name=body["name"]).exists()


def test_an_unreachable_cloud_is_retried_then_error(client_api, aws, worker, settings):
    from tests import peers

    body = client_api.post(URL, {"size": "small"}).json()
    aws.options = {**aws.options, "endpoint": peers.closed_port_url(), "timeout": 2}
    aws.save()

    ran = worker.run()

    assert ran.count("provision") == settings.PCM_MAX_ATTEMPTS
    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "error"
    assert "Cannot reach the cloud" in instance.last_error


def test_a_build_that_never_ends_is_error_after_the_build_timeout(
    client_api, snv, worker, settings
):
    settings.PCM_BUILD_TIMEOUT = 0
    extra = {"openstack": {"metadata": {"server_building": "600"}}}
    body = client_api.post(
        "/pcm_api/v2/clouds/SNV-LAB-1/instances", {"size": "small", "extra": extra}
    ).json()

    worker.run()

    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "error"
    assert "still building" in instance.last_error


def test_a_follow_up_waits_in_the_queue_without_a_worker(aws, worker):
    from django_q.models import OrmQ

    from instances import queue

    queue.later("watch", 30, "00000000-0000-4000-8000-000000000000")

    assert OrmQ.objects.count() == 1
    assert worker.broker.dequeue() is None  # not yet visible to any worker


def building(client_api, worker, count: int) -> list[str]:
    """Instances created at the provider, not looked at yet (their watches still queued)."""
    ids = [client_api.post(URL, {"size": "small"}).json()["id"] for _ in range(count)]
    worker.run(later=False)
    assert set(Instance.objects.values_list("status", flat=True)) == {"building"}
    return ids


def test_a_look_holds_the_peers_it_asks_for_so_no_other_look_asks_for_them(client_api, aws, worker):
    first, *others = building(client_api, worker, 4)

    peers, _ = provisioning._claim_peers(Instance.objects.get(pk=first))
    again, _ = provisioning._claim_peers(Instance.objects.get(pk=first))

    assert sorted(str(pk) for pk, _ in peers) == sorted(others)
    assert again == []  # held by the first look


def test_a_watch_of_a_held_instance_looks_again_later_and_then_finishes_it(client_api, aws, worker):
    (held,) = building(client_api, worker, 1)
    worker.broker.purge_queue()
    Instance.objects.filter(pk=held).update(busy_until=timezone.now() + timedelta(minutes=1))

    provisioning.watch(held)

    assert Instance.objects.get(pk=held).status == "building"
    Instance.objects.filter(pk=held).update(busy_until=None)  # the holder is done
    assert worker.run() == ["watch"]
    assert Instance.objects.get(pk=held).status == "running"
