"""Tasks run again after a crash create nothing twice; failures end in error, with a reason,
and never forget a node. Creates are counted where they reach the cloud (a recording proxy
in front of moto), not only as nodes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clouds.services import provider_for
from instances.models import Instance
from instances.services import cloud_usage
from instances.worker import provision, reconcile_cloud, watch
from instances.worker.watch import claim_peers
from providers.base import CreateOptions
from providers.inventory.models import SystemRecord

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def live_nodes(cloud):
    return [n for n in provider_for(cloud).list() if n.status != "deleted"]


def accepted(client_api, worker) -> Instance:
    """An instance accepted by the API, its provision task lost (as after a crash)."""
    body = client_api.post(URL, {"size": "small"}).json()
    worker.broker.purge_queue()
    return Instance.objects.get(pk=body["id"])


def node_made_by_a_lost_attempt(cloud, instance: Instance):
    """The worker sent the create, the cloud made the node, and the answer was lost."""
    node = provider_for(cloud).create(
        instance.name,
        "t3.small",
        instance.provider_image_id,
        CreateOptions(pcm_id=str(instance.pk)),
    )
    Instance.objects.filter(pk=instance.pk).update(
        status="building", attempts=1, node_may_exist=True, acted_at=timezone.now()
    )
    return node


def test_a_provision_delivered_again_after_the_create_sends_no_second_create(
    client_api, aws, ec2_calls, worker
):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run(later=False)  # created; its watch is queued
    assert Instance.objects.get(pk=body["id"]).status == "building"

    provision(body["id"])  # the same task, delivered again

    assert ec2_calls.tokens("RunInstances") == [body["id"]]
    worker.run()
    assert Instance.objects.get(pk=body["id"]).status == "running"
    assert len(live_nodes(aws)) == 1


def test_a_rerun_after_a_crash_past_the_provider_call_adopts_the_node(
    client_api, aws, ec2_calls, worker
):
    instance = accepted(client_api, worker)
    node = node_made_by_a_lost_attempt(aws, instance)

    provision(str(instance.pk))

    instance.refresh_from_db()
    assert instance.provider_id == node.provider_id
    assert ec2_calls.tokens("RunInstances") == [str(instance.pk)]  # the lost one only
    assert "adopted" in instance.events.get(action="create").detail
    worker.run()
    assert Instance.objects.get(pk=instance.pk).status == "running"


def test_a_second_delivery_while_the_first_holds_the_lease_waits(
    client_api, aws, ec2_calls, worker
):
    instance = accepted(client_api, worker)
    Instance.objects.filter(pk=instance.pk).update(busy_until=timezone.now() + timedelta(minutes=1))

    provision(str(instance.pk))

    assert ec2_calls.tokens("RunInstances") == []
    assert Instance.objects.get(pk=instance.pk).attempts == 0


def test_an_instance_is_error_after_the_attempts_run_out_and_frees_its_name(
    client_api, aws, ec2_calls, worker, settings
):
    instance = accepted(client_api, worker)
    Instance.objects.filter(pk=instance.pk).update(attempts=settings.PCM_MAX_ATTEMPTS)

    provision(str(instance.pk))

    instance.refresh_from_db()
    assert instance.status == "error"
    assert instance.last_error == f"gave up after {settings.PCM_MAX_ATTEMPTS} attempts"
    assert ec2_calls.tokens("RunInstances") == []
    assert not SystemRecord.objects.filter(name=instance.name).exists()
    assert cloud_usage(aws)["instances"] == 0


def test_giving_up_looks_for_the_node_first_and_adopts_it(
    client_api, aws, ec2_calls, worker, settings
):
    instance = accepted(client_api, worker)
    node = node_made_by_a_lost_attempt(aws, instance)
    Instance.objects.filter(pk=instance.pk).update(attempts=settings.PCM_MAX_ATTEMPTS)

    provision(str(instance.pk))
    worker.run()

    instance.refresh_from_db()
    assert (instance.status, instance.provider_id) == ("running", node.provider_id)
    assert len(ec2_calls.tokens("RunInstances")) == 1


def test_an_instance_given_up_while_its_node_may_exist_keeps_name_and_quota_until_a_listing(
    client_api, aws, ec2_calls, worker, settings
):
    instance = accepted(client_api, worker)
    past_grace = timezone.now() - timedelta(seconds=settings.PCM_VISIBILITY_GRACE + 1)
    Instance.objects.filter(pk=instance.pk).update(
        status="building",
        attempts=settings.PCM_MAX_ATTEMPTS,
        node_may_exist=True,
        acted_at=timezone.now(),  # the last create's answer was lost a moment ago
    )

    provision(str(instance.pk))  # the cloud may not list its node yet: it looks again later
    assert Instance.objects.get(pk=instance.pk).status == "building"

    Instance.objects.filter(pk=instance.pk).update(acted_at=past_grace)
    provision(str(instance.pk))  # the window is over, no attempt is left

    instance.refresh_from_db()
    assert instance.status == "error"
    assert "a node may exist" in instance.last_error
    assert ec2_calls.tokens("RunInstances") == []
    assert SystemRecord.objects.filter(name=instance.name).exists()  # the name is kept
    assert cloud_usage(aws)["instances"] == 1  # and it counts

    Instance.objects.filter(pk=instance.pk).update(acted_at=timezone.now())
    reconcile_cloud(aws)  # within the grace window: the cloud may not list it yet
    assert Instance.objects.get(pk=instance.pk).node_may_exist

    Instance.objects.filter(pk=instance.pk).update(acted_at=past_grace)
    reconcile_cloud(aws)
    assert not Instance.objects.get(pk=instance.pk).node_may_exist
    assert not SystemRecord.objects.filter(name=instance.name).exists()
    assert cloud_usage(aws)["instances"] == 0


def test_a_permanent_provider_error_is_error_with_the_reason_and_frees_the_name(
    client_api, aws, worker
):
    aws.size_mappings.filter(size__name="small").update(provider_size_id="t3.imaginary")
    body = client_api.post(URL, {"size": "small"}).json()

    worker.run()

    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "error"
    assert "t3.imaginary" in instance.last_error
    assert not instance.node_may_exist  # the cloud refused it: nothing was made
    assert not SystemRecord.objects.filter(name=body["name"]).exists()


def test_an_unreachable_cloud_is_tried_max_attempts_times_then_error(
    client_api, aws, worker, settings, caplog
):
    from tests import peers

    body = client_api.post(URL, {"size": "small"}).json()
    aws.options = {**aws.options, "endpoint": peers.closed_port_url(), "timeout": 2}
    aws.save()

    worker.run()

    creates = [r for r in caplog.records if "operation=create" in r.getMessage()]
    assert len(creates) == settings.PCM_MAX_ATTEMPTS
    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "error"
    assert "Cannot reach the cloud" in instance.last_error
    assert not instance.node_may_exist  # refused connections: no create reached it


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

    queue.enqueue("watch", "00000000-0000-4000-8000-000000000000", seconds=30)

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

    peers, _ = claim_peers(Instance.objects.get(pk=first))
    again, _ = claim_peers(Instance.objects.get(pk=first))

    assert sorted(str(pk) for pk, _ in peers) == sorted(others)
    assert again == []  # held by the first look


def test_a_watch_of_a_held_instance_looks_again_later_and_then_finishes_it(client_api, aws, worker):
    (held,) = building(client_api, worker, 1)
    worker.broker.purge_queue()
    Instance.objects.filter(pk=held).update(busy_until=timezone.now() + timedelta(minutes=1))

    watch(held)

    assert Instance.objects.get(pk=held).status == "building"
    Instance.objects.filter(pk=held).update(busy_until=None)  # the holder is done
    assert worker.run() == ["watch"]
    assert Instance.objects.get(pk=held).status == "running"


def test_a_create_the_breaker_refuses_is_not_an_attempt_and_is_tried_after_it(
    client_api, aws, ec2_calls, worker, settings
):
    from clouds.models import Cloud

    instance = accepted(client_api, worker)
    Cloud.objects.filter(pk=aws.pk).update(breaker_open_until=timezone.now() + timedelta(minutes=1))

    provision(str(instance.pk))

    instance.refresh_from_db()
    assert (instance.status, instance.attempts) == ("building", 0)
    assert not instance.node_may_exist  # nothing was sent
    assert ec2_calls.tokens("RunInstances") == []
    Cloud.objects.filter(pk=aws.pk).update(breaker_open_until=None)
    worker.run()
    assert Instance.objects.get(pk=instance.pk).status == "running"
    assert ec2_calls.tokens("RunInstances") == [str(instance.pk)]


def test_deleting_a_failed_create_with_no_node_is_done_at_once_and_counts_nowhere(
    client_api, aws, worker
):
    aws.size_mappings.filter(size__name="small").update(provider_size_id="t3.imaginary")
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()
    assert Instance.objects.get(pk=body["id"]).status == "error"

    answer = client_api.delete(f"{URL}/{body['id']}")

    assert answer.status_code == 202 and answer.json()["status"] == "deleted"
    assert cloud_usage(aws)["instances"] == 0
    assert worker.run() == []  # no task: nothing is at the cloud
