"""Reconciliation: one provider call per cloud brings the rows in line with the nodes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clouds.services import provider_for
from instances.models import Instance, Orphan
from instances.provisioning import reconcile_cloud
from instances.tasks import reconcile_clouds
from providers.base import CreateOptions, Provider
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


def test_one_list_call_per_cloud_whatever_the_number_of_instances(aws, three, monkeypatch):
    calls = []
    real_list = Provider.list

    def counting_list(self):
        calls.append(self)
        return real_list(self)

    monkeypatch.setattr(Provider, "list", counting_list)
    monkeypatch.setattr(Provider, "get", lambda self, pid: pytest.fail("no per-instance call"))

    reconcile_cloud(aws)

    assert len(calls) == 1


def test_statuses_follow_the_provider(aws, three):
    provider_for(aws).stop(three[0].provider_id)

    counts = reconcile_cloud(aws)

    assert counts["updated"] == 1
    three[0].refresh_from_db()
    assert (three[0].status, three[0].raw_status) == ("stopped", "stopped")


def test_a_node_gone_at_the_provider_is_deleted_and_the_inventory_told(aws, three, worker):
    provider_for(aws).destroy(three[1].provider_id)
    age(*three)

    reconcile_cloud(aws)
    worker.run()

    three[1].refresh_from_db()
    assert three[1].status == "deleted"
    event = three[1].events.last()
    assert (event.action, event.detail) == ("reconcile", "the node is gone at the provider")
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


def test_a_pending_instance_whose_task_was_lost_is_enqueued_again(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.broker.purge_queue()  # the task is lost
    age(Instance.objects.get(pk=body["id"]))

    assert reconcile_cloud(aws)["requeued"] == 1
    worker.run()

    assert Instance.objects.get(pk=body["id"]).status == "running"


def test_a_lost_action_task_is_enqueued_again(client_api, aws, three, worker):
    client_api.put(f"{URL}/{three[0].pk}", {"status": "stopped"})
    worker.broker.purge_queue()
    age(three[0])

    reconcile_cloud(aws)
    worker.run()

    three[0].refresh_from_db()
    assert three[0].status == "stopped"


def test_a_fresh_action_is_not_undone_by_reconciliation(client_api, aws, three, worker):
    client_api.put(f"{URL}/{three[0].pk}", {"status": "reboot"})

    reconcile_cloud(aws)  # the node says running; the reboot has not been sent yet
    three[0].refresh_from_db()
    assert three[0].status == "rebooting"

    worker.run()
    three[0].refresh_from_db()
    assert three[0].status == "running"
    assert three[0].events.last().outcome == "succeeded"


def test_the_schedule_fans_out_one_task_per_enabled_cloud(aws, snv):
    from django_q.models import OrmQ, Schedule

    assert Schedule.objects.filter(func="instances.tasks.reconcile_clouds", minutes=1).exists()
    assert reconcile_clouds() == 2
    assert OrmQ.objects.count() == 2
