"""Events reach a receiver signed, once per occurrence, and a failing receiver later."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from clouds.services import cloud_check
from webhooks import tasks
from webhooks.models import Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def queued_funcs() -> list[str]:
    return [SignedPackage.loads(entry.payload)["func"] for entry in OrmQ.objects.all()]


def test_a_receiver_hears_each_step_of_a_life_once_signed(
    client_api, aws, worker, receiver, subscribe
):
    hook = receiver()
    subscribe(hook.url)

    body = {"size": "small", "role": "web", "user_data": "#cloud-config\n# user-data-marker\n"}
    created = client_api.post(URL, body).json()
    worker.run()
    instance = f"{URL}/{created['id']}"
    for status in ("reboot", "stopped"):
        assert client_api.put(instance, {"status": status}).status_code == 202
        worker.run()
    assert client_api.delete(instance).status_code == 202
    worker.run()

    assert hook.forged == 0
    assert hook.types() == [
        "instance.created",
        "instance.running",
        "instance.rebooted",
        "instance.stopped",
        "instance.deleted",
    ]
    assert len({event["id"] for event in hook.received}) == 5
    heard = sorted(hook.received, key=lambda event: event["created_at"])
    first, last = heard[0], heard[-1]
    assert first["cloud"] == "AWSLAB-1"
    assert first["instance"]["id"] == created["id"]
    assert last["instance"]["status"] == "deleted"
    assert set(first) == {"id", "type", "created_at", "cloud", "instance"}
    assert first["instance"]["user_data_size"] > 0
    assert "user-data-marker" not in json.dumps(hook.received)  # never the user data
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 5


def test_a_subscription_gets_only_the_types_and_clouds_it_asked_for(
    client_api, aws, worker, receiver, subscribe
):
    hook = receiver()
    subscribe(hook.url, name="running", event_types=["instance.running"])
    other = receiver()
    elsewhere = subscribe(other.url, name="elsewhere")
    elsewhere.clouds.set([aws.__class__.objects.create(name="OTHER-1", provider="ec2")])

    client_api.post(URL, {"size": "small"})
    worker.run()

    assert hook.types() == ["instance.running"]
    assert other.received == []


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt(
    aws, receiver, subscribe, django_capture_on_commit_callbacks
):
    import webhooks

    hook = receiver(statuses=[500, 503])
    subscribe(hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        event = webhooks.emit("instance.expiring", cloud=aws)
    delivery = Delivery.objects.get(event=event)

    results = []
    for _ in range(3):
        results.append(tasks.deliver(delivery.pk))
        delivery.refresh_from_db()
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())

    assert results[:2] == ["retry after attempt 1", "retry after attempt 2"]
    assert results[2] == "delivered"
    assert hook.requests == 3
    assert [e["id"] for e in hook.received] == [str(event.id)]
    assert delivery.attempts == 3
    assert delivery.response_status == 200
    assert delivery.last_error == ""


def test_retries_back_off_and_stop_after_a_day(aws, receiver, subscribe):
    import webhooks

    hook = receiver(statuses=[500] * 3)
    subscribe(hook.url)
    event = webhooks.emit("cloud.unreachable", cloud=aws)
    delivery = Delivery.objects.get(event=event)

    tasks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.last_error == "HTTP 500: no"
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
    assert tasks.deliver(delivery.pk) == "not due"  # the sweep alone would not send it early

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    tasks.deliver(delivery.pk)
    delivery.refresh_from_db()
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=55) < wait <= timedelta(seconds=60)

    event.created_at = timezone.now() - timedelta(days=1, minutes=1)
    event.save()
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert tasks.deliver(delivery.pk) == "failed"
    assert tasks.deliver_due() == 0


def test_the_sweep_queues_due_deliveries_only(aws, receiver, subscribe):
    import webhooks

    subscribe(receiver().url)
    due = Delivery.objects.get(event=webhooks.emit("cloud.reachable", cloud=aws))
    later = Delivery.objects.get(event=webhooks.emit("cloud.unreachable", cloud=aws))
    Delivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(1))
    OrmQ.objects.all().delete()

    assert tasks.deliver_due() == 1
    [entry] = OrmQ.objects.all()
    assert SignedPackage.loads(entry.payload)["args"] == (due.pk,)


def test_a_dead_receiver_does_not_slow_a_create(client_api, aws, receiver, subscribe):
    hook = receiver(hang=30)
    subscribe(hook.url)

    response = client_api.post(URL, {"size": "small"})

    assert response.status_code == 202
    # The create's request made no delivery: its work and the delivery are separate tasks.
    assert hook.requests == 0
    delivery = Delivery.objects.get()
    assert delivery.attempts == 0
    assert sorted(queued_funcs()) == ["instances.tasks.provision", "webhooks.tasks.deliver"]


def test_a_receiver_that_does_not_answer_times_out_and_is_retried(aws, receiver, subscribe):
    import webhooks

    hook = receiver(hang=8)
    subscribe(hook.url)
    delivery = Delivery.objects.get(event=webhooks.emit("cloud.reachable", cloud=aws))

    tasks.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.last_error == "No answer within 5 s"
    assert delivery.status == DeliveryStatus.PENDING
    assert 4900 <= delivery.duration_ms < 7000


def test_a_cloud_that_becomes_unreachable_and_comes_back_is_told_once_each(
    aws, receiver, subscribe, django_capture_on_commit_callbacks, worker
):
    hook = receiver()
    subscribe(hook.url)
    reachable = dict(aws.options)

    def check():
        with django_capture_on_commit_callbacks(execute=True):
            cloud_check(cloud=aws)

    check()  # a first check that succeeds tells nothing
    aws.options = {**reachable, "endpoint": "http://127.0.0.1:9/", "timeout": 2}
    aws.save()
    check()
    check()
    aws.options = reachable
    aws.save()
    check()
    check()
    worker.run()

    assert hook.types() == ["cloud.unreachable", "cloud.reachable"]
    assert hook.received[0]["instance"] is None


def test_no_subscription_no_event(client_api, aws, worker):
    from webhooks.models import Event

    client_api.post(URL, {"size": "small"})
    worker.run()

    assert not Event.objects.exists()


def test_a_disabled_subscription_gets_nothing_more(aws, receiver, subscribe):
    import webhooks

    hook = receiver()
    subscription = subscribe(hook.url)
    delivery = Delivery.objects.get(event=webhooks.emit("cloud.reachable", cloud=aws))
    subscription.enabled = False
    subscription.save()

    assert tasks.deliver(delivery.pk) == "disabled"
    assert hook.requests == 0
    assert webhooks.emit("cloud.unreachable", cloud=aws) is None


def test_a_lease_is_heard_expiring_then_expired_then_deleted_each_once(
    client_api, aws, worker, receiver, subscribe, settings
):
    from instances.models import Instance
    from instances.tasks import expire_leases

    hook = receiver()
    subscribe(hook.url, event_types=["instance.expiring", "instance.expired", "instance.deleted"])
    created = client_api.post(URL, {"size": "small", "lease": "PT30M"}).json()
    worker.run()

    with worker.capture(execute=True):
        expire_leases()  # within the hour's warning: expiring
        expire_leases()  # nothing new
    worker.run()
    Instance.objects.filter(pk=created["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with worker.capture(execute=True):
        expire_leases()
    worker.run()

    assert hook.forged == 0
    assert hook.types() == ["instance.expiring", "instance.expired", "instance.deleted"]
    expiring = next(e for e in hook.received if e["type"] == "instance.expiring")
    assert expiring["instance"]["expires_at"] is not None
