"""A lease ending, with real `manage.py qcluster` processes at moto: the task that the
schedule runs deletes the instance, once, with two clusters running it at the same time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.tasks import async_task

from instances.models import Instance
from tests.instances.test_qcluster import running_qcluster, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def test_two_clusters_end_a_lease_once_and_the_instance_is_deleted(client_api, aws, tmp_path):
    body = client_api.post(URL, {"size": "small", "lease": "PT1H"}).json()

    def status():
        return Instance.objects.get(pk=body["id"]).status

    with (
        running_qcluster(tmp_path / "one.log") as one,
        running_qcluster(tmp_path / "two.log", PCM_Q_WORKERS="1") as two,
    ):
        assert wait_for(lambda: status() == "running"), status()
        Instance.objects.filter(pk=body["id"]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        # What the "pcm: expire leases" schedule enqueues each minute, twice at once.
        for _ in range(4):
            async_task("instances.tasks.expire_leases")

        assert wait_for(lambda: status() == "deleted"), status()
        assert one.poll() is None and two.poll() is None

    deletes = Instance.objects.get(pk=body["id"]).events.filter(action="delete")
    assert [(e.actor, e.outcome) for e in deletes] == [("lease", "succeeded")]
