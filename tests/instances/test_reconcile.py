"""Reconciliation: one provider call per cloud brings the rows in line with the nodes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clouds.services import provider_for
from instances.models import Instance, Orphan
from instances.tasks import reconcile_clouds
from instances.worker import reconcile_cloud
from providers.base import CreateOptions
from providers.inventory.models import SystemRecord

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


@pytest.fixture
def three(client_api, aws, worker):
    ids = [client_api.post(URL, {"size": "small"}).json()["id"] for _ in range(3)]
    worker.run()
    return [Instance.objects.get(pk=i) for i in ids]


def age(*instances, seconds=3600):
    Instance.objects.filter(pk__in=[i.pk for i in instances]).update(
        status_since=timezone.now() - timedelta(seconds=seconds)
    )


def test_one_list_call_per_cloud_whatever_the_number_of_instances(aws, ec2_calls, three):
    before = len(ec2_calls.seen)

    reconcile_cloud(aws)

    actions = [action for action, _ in ec2_calls.seen[before:]]
    # One listing (its Elastic IPs are in it): nothing asked per instance.
    assert actions == ["DescribeInstances"]


def test_statuses_follow_the_provider(aws, three):
    provider_for(aws).stop(three[0].provider_id)

    counts = reconcile_cloud(aws)

    assert counts["updated"] == 1
    three[0].refresh_from_db()
    assert (three[0].status, three[0].raw_status) == ("stopped", "stopped")


def test_a_node_the_cloud_reports_terminated_is_deleted_and_the_inventory_told(aws, three, worker):
    provider_for(aws).destroy(three[1].provider_id)  # not through PCM

    reconcile_cloud(aws)
    worker.run()

    three[1].refresh_from_db()
    assert three[1].status == "deleted"
    event = three[1].events.last()
    assert (event.action, event.detail) == ("reconcile", "the cloud reports the node terminated")
    assert not SystemRecord.objects.filter(name=three[1].name).exists()
    assert SystemRecord.objects.filter(name=three[0].name, state="registered").exists()


def test_a_tagged_node_without_a_row_is_an_orphan_until_it_goes(aws, three):
    stray = provider_for(aws).create(
        "stray",
        "t3.small",
        "ami-760aaa0f",
        CreateOptions(pcm_id="0b3a4c2e-0000-4000-8000-000000000000"),
    )

    reconcile_cloud(aws)
    assert Orphan.objects.get().provider_id == stray.provider_id

    provider_for(aws).destroy(stray.provider_id)
    reconcile_cloud(aws)
    assert not Orphan.objects.exists()


def test_a_pending_instance_is_enqueued_again_only_once_its_task_is_lost(client_api, aws, worker):
    from django_q.models import OrmQ

    body = client_api.post(URL, {"size": "small"}).json()
    age(Instance.objects.get(pk=body["id"]))

    assert reconcile_cloud(aws)["requeued"] == 0  # its task is still queued
    assert reconcile_cloud(aws)["requeued"] == 0
    assert OrmQ.objects.count() == 1

    worker.broker.purge_queue()  # the task is lost
    assert reconcile_cloud(aws)["requeued"] == 1
    assert reconcile_cloud(aws)["requeued"] == 0  # and now queued again, once
    worker.run()

    assert Instance.objects.get(pk=body["id"]).status == "running"


@pytest.mark.parametrize(
    ("body", "method", "final"),
    [
        ({"status": "stopped"}, "put", "stopped"),
        ({"status": "reboot"}, "put", "running"),
        (None, "delete", "deleted"),
    ],
)
def test_a_lost_action_or_delete_task_is_enqueued_again_once(
    client_api, aws, three, worker, body, method, final
):
    getattr(client_api, method)(f"{URL}/{three[0].pk}", body)
    age(three[0])
    assert reconcile_cloud(aws)["requeued"] == 0  # still queued

    worker.broker.purge_queue()  # lost
    assert reconcile_cloud(aws)["requeued"] == 1
    assert reconcile_cloud(aws)["requeued"] == 0
    worker.run()

    three[0].refresh_from_db()
    assert three[0].status == final


def test_a_fresh_action_is_not_undone_by_reconciliation(client_api, aws, three, worker):
    client_api.put(f"{URL}/{three[0].pk}", {"status": "reboot"})

    reconcile_cloud(aws)  # the node says running; the reboot has not been sent yet
    three[0].refresh_from_db()
    assert three[0].status == "rebooting"

    worker.run()
    three[0].refresh_from_db()
    assert three[0].status == "running"
    assert three[0].events.last().outcome == "succeeded"


def test_a_build_past_the_timeout_fails_even_while_the_cloud_lists_it_building(
    client_api, snv, worker, settings
):
    extra = {"openstack": {"metadata": {"server_building": "600"}}}
    body = client_api.post(
        "/pcm_api/v2/clouds/SNV-LAB-1/instances", {"size": "small", "extra": extra}
    ).json()
    worker.run(later=False)
    worker.broker.purge_queue()  # the chain of watches is lost
    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "building"
    age(instance, seconds=settings.PCM_BUILD_TIMEOUT + 1)

    assert reconcile_cloud(snv)["failed"] == 1

    instance.refresh_from_db()
    assert instance.status == "error"
    assert "still building at the cloud" in instance.last_error


def test_rows_with_nothing_to_tell_the_inventory_get_no_task(client_api, aws, worker):
    from django_q.models import OrmQ

    aws.size_mappings.filter(size__name="small").update(provider_size_id="t3.imaginary")
    client_api.post(URL, {"size": "small"})
    worker.run()  # refused by the cloud: error, no node, its name given back
    assert Instance.objects.get().status == "error"

    for _ in range(3):
        reconcile_cloud(aws)

    assert OrmQ.objects.count() == 0


def test_the_schedule_fans_out_one_task_per_enabled_cloud(aws, snv):
    from django_q.models import OrmQ, Schedule

    assert Schedule.objects.filter(func="instances.tasks.reconcile_clouds", minutes=1).exists()
    assert reconcile_clouds() == 2
    assert OrmQ.objects.count() == 2


def test_a_listing_older_than_a_clients_action_does_not_undo_it(
    client_api, aws, three, worker, monkeypatch
):
    from providers.ec2 import EC2Provider

    real_list = EC2Provider.list

    def list_while_the_client_stops_one(self):
        nodes = real_list(self)  # node 0 is running in this listing...
        client_api.put(f"{URL}/{three[0].pk}", {"status": "stopped"})
        worker.run()  # ...and is stopped before the listing is applied
        return nodes

    monkeypatch.setattr(EC2Provider, "list", list_while_the_client_stops_one)
    assert Instance.objects.get(pk=three[0].pk).status == "running"

    reconcile_cloud(aws)

    assert Instance.objects.get(pk=three[0].pk).status == "stopped"
    assert provider_for(aws).get(three[0].provider_id).status == "stopped"


def test_a_listing_older_than_a_workers_later_look_does_not_undo_it(
    client_api, aws, three, monkeypatch
):
    """Seen in the soak at a real Nova: a client's stop is accepted (stopping); while a
    reconciliation's listing is on its way, the worker's stop reaches the cloud and its
    look finds the node stopping, the status the row has already. The listing, asked
    before the stop reached the cloud, shows the node running: it must not win."""
    from dataclasses import replace

    from instances.worker.record import apply_node
    from instances.worker.rows import finish_event
    from providers.ec2 import EC2Provider
    from providers.status import Status

    real_list = EC2Provider.list
    assert client_api.put(f"{URL}/{three[0].pk}", {"status": "stopped"}).status_code == 202

    def list_while_the_worker_looks(self):
        nodes = real_list(self)  # node 0 is running in this listing...
        running = next(node for node in nodes if node.provider_id == three[0].provider_id)
        instance = Instance.objects.get(pk=three[0].pk)
        finish_event(instance, "stop")  # ...and the worker's stop was taken meanwhile
        stopping = replace(running, status=Status.STOPPING, raw_status="stopping")
        apply_node(instance.pk, stopping, worker=True, observed_at=timezone.now())
        return nodes

    monkeypatch.setattr(EC2Provider, "list", list_while_the_worker_looks)
    assert Instance.objects.get(pk=three[0].pk).status == "stopping"

    reconcile_cloud(aws)

    assert Instance.objects.get(pk=three[0].pk).status == "stopping"
