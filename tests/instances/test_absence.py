"""Absence takes evidence: a node the cloud does not show is not deleted on one look, nor
within the grace window after a create or a start; two listings a cycle apart are
evidence. A row PCM called deleted or failed whose node shows up again is revived."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clouds.services import provider_for
from instances.models import Instance, InstanceEvent
from instances.services import cloud_usage
from instances.worker import reconcile_cloud, watch
from providers.inventory.models import SystemRecord

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


@pytest.fixture
def three(client_api, aws, worker, settings):
    ids = [client_api.post(URL, {"size": "small"}).json()["id"] for _ in range(3)]
    worker.run()
    # Created long enough ago for the cloud to have caught up.
    Instance.objects.update(
        acted_at=timezone.now() - timedelta(seconds=settings.PCM_VISIBILITY_GRACE + 1)
    )
    return [Instance.objects.get(pk=i) for i in ids]


def a_cycle_later(settings):
    Instance.objects.exclude(absent_since=None).update(
        absent_since=timezone.now() - timedelta(seconds=settings.PCM_ABSENCE_GAP)
    )


def statuses() -> list[str]:
    return sorted(Instance.objects.values_list("status", flat=True))


def test_absent_from_one_listing_is_noted_and_from_two_a_cycle_apart_is_deleted(
    aws, moto, three, worker, settings
):
    moto.reset()  # the nodes vanish from every listing

    assert reconcile_cloud(aws)["absent"] == 3
    assert statuses() == ["running"] * 3
    assert reconcile_cloud(aws)["deleted"] == 0  # the second listing came too soon
    assert statuses() == ["running"] * 3

    a_cycle_later(settings)
    assert reconcile_cloud(aws)["deleted"] == 3
    worker.run()

    assert statuses() == ["deleted"] * 3
    detail = three[0].events.last().detail
    assert detail.startswith("the node is gone at the provider (absent from listings")
    assert not SystemRecord.objects.filter(name=three[0].name).exists()


def test_a_node_listed_again_clears_its_absence(aws, three, settings):
    Instance.objects.update(absent_since=timezone.now() - timedelta(hours=1))

    reconcile_cloud(aws)  # every node is listed
    a_cycle_later(settings)
    reconcile_cloud(aws)

    assert statuses() == ["running"] * 3
    assert not Instance.objects.exclude(absent_since=None).exists()


def test_within_the_grace_window_a_node_not_listed_is_not_visible_yet(aws, moto, three, settings):
    Instance.objects.update(acted_at=timezone.now())  # just created (or started)
    moto.reset()

    for _ in range(3):
        reconcile_cloud(aws)
        a_cycle_later(settings)

    assert statuses() == ["running"] * 3
    assert not Instance.objects.exclude(absent_since=None).exists()


def test_a_refresh_or_a_watch_that_does_not_find_the_node_deletes_nothing(
    client_api, aws, moto, three, worker
):
    moto.reset()

    refreshed = client_api.get(f"{URL}/{three[0].pk}?refresh=true")
    Instance.objects.filter(pk=three[1].pk).update(status="building")
    watch(str(three[1].pk))

    assert refreshed.status_code == 200 and refreshed.json()["status"] == "running"
    assert Instance.objects.get(pk=three[1].pk).status == "building"
    assert "deleted" not in statuses()


def test_a_row_pcm_called_deleted_whose_node_is_listed_again_is_revived(aws, three, worker):
    lost = three[0]
    Instance.objects.filter(pk=lost.pk).update(status="deleted", inventory_synced=True)
    SystemRecord.objects.filter(name=lost.name).delete()

    assert reconcile_cloud(aws)["revived"] == 1
    worker.run()

    lost.refresh_from_db()
    assert (lost.status, lost.provider_id) == ("running", three[0].provider_id)
    assert "revived" in lost.events.last().detail
    assert SystemRecord.objects.filter(name=lost.name, state="registered").exists()


def test_a_node_still_carrying_a_client_deleted_instances_id_is_destroyed(aws, three, worker):
    gone = three[0]
    Instance.objects.filter(pk=gone.pk).update(status="deleted")
    InstanceEvent.objects.create(instance=gone, actor="bob", action="delete", outcome="succeeded")
    before = cloud_usage(aws)["instances"]

    counts = reconcile_cloud(aws)

    assert (counts["duplicates"], counts["revived"], counts["orphans"]) == (1, 0, 0)
    assert Instance.objects.get(pk=gone.pk).status == "deleted"  # it stays deleted
    assert cloud_usage(aws)["instances"] == before  # and counts in no quota
    assert provider_for(aws).get(gone.provider_id).status == "deleted"  # terminated
    assert "still carried this deleted instance's id: destroyed" in gone.events.last().detail


def test_a_failed_create_whose_node_shows_up_is_adopted(aws, three, worker):
    failed = three[0]
    Instance.objects.filter(pk=failed.pk).update(
        status="error", provider_id="", node_may_exist=True, last_error="gave up"
    )

    assert reconcile_cloud(aws)["adopted"] == 1
    worker.run()

    failed.refresh_from_db()
    assert (failed.status, failed.provider_id) == ("running", three[0].provider_id)
    assert "found its node" in failed.events.last().detail


def test_a_delete_that_found_no_node_while_its_node_lives_is_sent_again(
    client_api, aws, three, worker
):
    """Seen in the soak at a real Nova: a delete asked for during the create was sent once
    the create answered, while the cloud did not show the new node yet (NotFound); the node
    then showed up alive, and a watch looked at it for as long as the build timeout."""
    from instances import queue

    instance = three[0]
    Instance.objects.filter(pk=instance.pk).update(status="deleting")  # its delete is over
    queue.later("watch", 0, instance.pk)

    worker.run()

    assert Instance.objects.get(pk=instance.pk).status == "deleted"
    assert provider_for(aws).get(instance.provider_id).status == "deleted"  # terminated
    assert [i.status for i in three[1:]] == ["running", "running"]
