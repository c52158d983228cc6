"""Leases ending (instances/expiry.py): the warning before, once per expiry, and the delete
through the services a user's delete takes, once however many runs race."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from clouds.services import provider_for
from instances import expiry
from instances.models import Instance
from instances.signals import lease_expired, lease_expiring
from instances.tasks import expire_leases

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


@pytest.fixture
def heard():
    """What other apps (webhooks) hear: (signal, instance id), in order."""
    got: list[tuple[str, str]] = []

    def expiring(sender, instance, **kwargs):
        got.append(("expiring", str(instance.pk)))

    def expired(sender, instance, **kwargs):
        got.append(("expired", str(instance.pk)))

    lease_expiring.connect(expiring)
    lease_expired.connect(expired)
    yield got
    lease_expiring.disconnect(expiring)
    lease_expired.disconnect(expired)


def ends(pk, when) -> None:
    Instance.objects.filter(pk=pk).update(expires_at=when)


def lease_events(pk) -> list[tuple[str, str, str]]:
    rows = Instance.objects.get(pk=pk).events.filter(actor="lease")
    return [(e.action, e.outcome, e.detail) for e in rows]


@pytest.mark.django_db
def test_a_schedule_runs_the_expiry_each_minute():
    schedule = Schedule.objects.get(name="pcm: expire leases")

    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "instances.tasks.expire_leases",
        "I",
        1,
    )


@pytest.mark.django_db
def test_an_ended_lease_deletes_the_instance_at_the_cloud(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small", "lease": "PT8H"}).json()
    worker.run()
    provider_id = Instance.objects.get(pk=body["id"]).provider_id
    assert provider_for(aws).get(provider_id) is not None
    ends(body["id"], timezone.now() - timedelta(seconds=1))

    with worker.capture(execute=True):
        assert expire_leases() == {"warned": 0, "expired": 1}
    worker.run()

    read = client_api.get(f"{URL}/{body['id']}").json()
    assert read["status"] == "deleted"
    node = provider_for(aws).get(provider_id)
    assert node is None or node.status == "deleted"
    events = client_api.get(f"{URL}/{body['id']}/events").json()["results"]
    (delete,) = [e for e in events if e["action"] == "delete"]
    assert (delete["actor"], delete["outcome"]) == ("lease", "succeeded")
    assert delete["detail"].startswith("the lease ended at ")


@pytest.mark.django_db
def test_nothing_happens_to_an_instance_deleted_or_deleting(client_api, aws, worker):
    deleting = client_api.post(URL, {"size": "small", "lease": 60}).json()
    deleted = client_api.post(URL, {"size": "small", "lease": 60}).json()
    worker.run()
    client_api.delete(f"{URL}/{deleting['id']}")
    client_api.delete(f"{URL}/{deleted['id']}")
    worker.run()
    Instance.objects.filter(pk=deleting["id"]).update(status="deleting")
    for pk in (deleting["id"], deleted["id"]):
        ends(pk, timezone.now() - timedelta(minutes=5))

    assert expiry.expire_leases() == 0
    assert expiry.warn_expiring() == 0
    assert lease_events(deleting["id"]) == lease_events(deleted["id"]) == []


@pytest.mark.django_db
def test_an_unexpired_instance_stays(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small", "lease": "PT2H"}).json()
    worker.run()

    assert expiry.expire_leases() == 0
    assert Instance.objects.get(pk=body["id"]).status == "running"


@pytest.mark.django_db
def test_a_second_run_does_not_delete_again(client_api, aws, worker, heard):
    body = client_api.post(URL, {"size": "small", "lease": 60}).json()
    worker.run()
    now = timezone.now() + timedelta(minutes=2)

    assert expiry.expire(body["id"], now) is True
    assert expiry.expire(body["id"], now) is False
    assert expiry.expire_leases(now) == 0
    assert Instance.objects.get(pk=body["id"]).events.filter(action="delete").count() == 1
    assert heard == [("expired", body["id"])]


@pytest.mark.django_db(transaction=True)
def test_two_runs_racing_delete_each_instance_once(client_api, aws, worker):
    ids = [client_api.post(URL, {"size": "small", "lease": 60}).json()["id"] for _ in range(3)]
    worker.run()
    now = timezone.now() + timedelta(minutes=2)
    start = threading.Barrier(2)
    counts: list[int] = []

    def run():
        try:
            start.wait()
            counts.append(expiry.expire_leases(now))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(counts) == 2 and sum(counts) == 3, counts
    for pk in ids:
        assert Instance.objects.get(pk=pk).events.filter(action="delete").count() == 1
        assert Instance.objects.get(pk=pk).status == "deleting"


# -- the warning ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_warning_comes_once_within_the_warning_time(client_api, aws, worker, settings, heard):
    settings.PCM_LEASE_WARNING = 3600
    soon = client_api.post(URL, {"size": "small", "lease": "PT50M"}).json()
    later = client_api.post(URL, {"size": "small", "lease": "PT2H"}).json()
    worker.run()

    assert expiry.warn_expiring() == 1
    assert expiry.warn_expiring() == 0

    ((action, outcome, detail),) = lease_events(soon["id"])
    assert (action, outcome) == ("expiring", "succeeded")
    assert detail.startswith("the lease ends at ")
    assert lease_events(later["id"]) == []
    assert Instance.objects.get(pk=soon["id"]).status == "running"
    assert heard == [("expiring", soon["id"])]


@pytest.mark.django_db
def test_a_new_expiry_gets_a_new_warning(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small", "lease": "PT30M"}).json()
    worker.run()
    assert expiry.warn_expiring() == 1

    client_api.patch(f"{URL}/{body['id']}", {"lease": "PT40M"})

    assert expiry.warn_expiring() == 1
    assert [e[0] for e in lease_events(body["id"])] == ["expiring", "expiring"]


@pytest.mark.django_db
def test_the_warning_time_is_configurable(client_api, aws, worker, settings):
    settings.PCM_LEASE_WARNING = 600
    client_api.post(URL, {"size": "small", "lease": "PT30M"})
    worker.run()

    assert expiry.warn_expiring() == 0
    settings.PCM_LEASE_WARNING = 3600
    assert expiry.warn_expiring() == 1
