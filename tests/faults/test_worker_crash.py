"""A qcluster worker SIGKILLed at each step of provisioning, ten instances per step; then
the cluster recovers, one reconciliation runs, and nothing is duplicated, orphaned, lost
or stuck. Creates are counted where they reach the cloud (a recording proxy in front of
moto), so a retry that sent a second create would fail here even where a client token
would have saved it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from clouds.services import provider_for
from instances.faults import POINTS
from instances.models import Instance, Orphan
from instances.worker import reconcile_cloud
from providers.inventory.models import SystemRecord
from tests.instances.test_qcluster import running_qcluster, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"
PER_STEP = 10
FINAL = {"running", "stopped", "error", "deleted"}


@pytest.fixture
def crashing_cluster(request, tmp_path):
    # A killed worker's task comes back after `retry`: short times keep the test short.
    with running_qcluster(
        tmp_path / "qcluster.log",
        PCM_FAULT_POINT=request.param,
        PCM_TASK_TIMEOUT="6",
        PCM_TASK_RETRY="8",
        PCM_LEASE_SECONDS="6",
    ):
        yield request.param


@pytest.mark.parametrize("crashing_cluster", POINTS, indirect=True)
def test_a_worker_killed_at_each_step_loses_and_duplicates_nothing(
    crashing_cluster, client_api, aws, ec2_calls, settings
):
    settings.PCM_PENDING_DEADLINE = 0  # the reconciliation below may re-enqueue at once
    ids = [client_api.post(URL, {"size": "small"}).json()["id"] for _ in range(PER_STEP)]

    def settled() -> bool:
        return set(Instance.objects.values_list("status", flat=True)) <= FINAL

    assert wait_for(settled, 90), Counter(Instance.objects.values_list("status", flat=True))
    reconcile_cloud(aws)
    assert wait_for(lambda: not Instance.objects.filter(inventory_synced=False).exists(), 60), (
        "the Inventory was not brought up to date"
    )

    nodes = [n for n in provider_for(aws).list() if n.status != "deleted"]
    per_instance = Counter(node.pcm_id for node in nodes)
    instances = Instance.objects.all()
    assert sorted(str(i.pk) for i in instances) == sorted(ids)  # 0 lost rows
    assert {i.status for i in instances} == {"running"}  # 0 stuck, 0 failed
    assert all(per_instance[i] == 1 for i in ids)  # 0 duplicates
    assert set(per_instance) == set(ids)  # every node belongs to a row
    assert not Orphan.objects.exists()  # 0 orphans
    assert {i.provider_id for i in instances} == {n.provider_id for n in nodes}
    assert SystemRecord.objects.filter(state="registered").count() == PER_STEP
    # One create reached the cloud per instance, whatever the step of the kill.
    assert Counter(ec2_calls.tokens("RunInstances")) == Counter({i: 1 for i in ids})
    if crashing_cluster == "before_provider_call":
        assert all(i.attempts == 2 for i in instances)  # killed once, then created
    else:
        # The create had reached the cloud: the next run adopted its node (found by its
        # tag, or recorded before the kill) instead of creating again.
        assert all(i.attempts == 1 for i in instances)
