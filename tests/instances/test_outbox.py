"""The task commits with its row: django-q2's ORM broker writes the provision task's queue
entry in the transaction that inserts the instance (an outbox), so nothing between the
commit and the enqueue can strand a row, and a failure rolls back both and frees the name."""

from __future__ import annotations

import pytest
from django.db import DatabaseError
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from instances import queue
from instances.models import IdempotencyRecord, Instance
from providers.inventory.models import SystemRecord

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def test_the_instance_and_its_task_are_written_together(client_api, aws):
    body = client_api.post(URL, {"size": "small"}).json()

    instance = Instance.objects.get(pk=body["id"])
    entry = OrmQ.objects.get(pk=instance.task_entry)
    assert SignedPackage.loads(entry.payload)["func"] == "instances.tasks.provision"
    assert SystemRecord.objects.filter(name=body["name"], state="reserved").exists()


def test_a_failed_enqueue_rolls_back_the_instance_and_frees_name_and_key(
    client_api, aws, monkeypatch
):
    def broken(self, task):
        raise DatabaseError("the queue table is gone")

    monkeypatch.setattr(queue.Outbox, "enqueue", broken)

    response = client_api.post(URL, {"size": "small"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 503
    assert response.json()["message"] == "The create could not be recorded; nothing was created"
    assert not Instance.objects.exists()
    assert not OrmQ.objects.exists()
    assert not SystemRecord.objects.exists()  # the name is free again
    assert not IdempotencyRecord.objects.exists()  # and so is the key


def test_a_failure_after_the_enqueue_leaves_no_task_behind(client_api, aws, monkeypatch):
    from instances import views

    def failing_complete(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(views.idempotency, "complete", failing_complete)

    response = client_api.post(URL, {"size": "small"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 503
    assert not Instance.objects.exists()
    assert not OrmQ.objects.exists()
    assert not SystemRecord.objects.exists()


def test_actions_and_deletes_commit_their_task_with_the_status(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()

    client_api.put(f"{URL}/{body['id']}", {"status": "reboot"})
    instance = Instance.objects.get(pk=body["id"])
    assert SignedPackage.loads(OrmQ.objects.get(pk=instance.task_entry).payload)["args"][2] == (
        "reboot"
    )
