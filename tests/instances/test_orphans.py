"""Every tagged node is accounted for: each live node carrying a PCM id is one live
instance's node, or an orphan shown in the admin and at /clouds/{cloud}/orphans; a
duplicate a retried create made is destroyed, with an event on its instance."""

from __future__ import annotations

import pytest

from clouds.services import provider_for
from instances.models import Instance, Orphan
from instances.worker import reconcile_cloud
from providers.base import CreateOptions
from tests.lifecycle import AMI

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1"
STRAY = "0b3a4c2e-0000-4000-8000-000000000000"


@pytest.fixture
def running(client_api, aws, worker) -> Instance:
    body = client_api.post(f"{URL}/instances", {"size": "small"}).json()
    worker.run()
    return Instance.objects.get(pk=body["id"])


def second_node(cloud, instance: Instance):
    """What a retried create without a client token leaves: another node, same tag."""
    options = CreateOptions(pcm_id=str(instance.pk))
    return provider_for(cloud).create(instance.name, "t3.small", AMI, options)


def test_a_duplicate_of_a_live_instance_is_destroyed_with_an_event(aws, running):
    duplicate = second_node(aws, running)

    counts = reconcile_cloud(aws)

    assert counts["duplicates"] == 1 and counts["orphans"] == 0
    assert provider_for(aws).get(duplicate.provider_id).status == "deleted"
    assert provider_for(aws).get(running.provider_id).status == "running"
    event = running.events.get(action="duplicate")
    assert duplicate.provider_id in event.detail and event.detail.endswith("destroyed")
    assert Instance.objects.get(pk=running.pk).status == "running"


def test_with_duplicates_kept_a_duplicate_is_an_orphan(aws, running, settings):
    settings.PCM_DESTROY_DUPLICATES = False
    duplicate = second_node(aws, running)

    reconcile_cloud(aws)

    orphan = Orphan.objects.get()
    assert (orphan.provider_id, orphan.reason, orphan.instance_id) == (
        duplicate.provider_id,
        "duplicate",
        running.pk,
    )
    assert provider_for(aws).get(duplicate.provider_id).status == "running"


def test_unknown_and_deleted_instances_nodes_are_orphans_until_they_go(aws, running, worker):
    stray = provider_for(aws).create("stray", "t3.small", AMI, CreateOptions(pcm_id=STRAY))

    reconcile_cloud(aws)
    assert list(Orphan.objects.values_list("provider_id", "reason")) == [
        (stray.provider_id, "unknown")
    ]

    provider_for(aws).destroy(stray.provider_id)
    reconcile_cloud(aws)
    assert not Orphan.objects.exists()


def test_the_api_lists_orphans_for_operators(client_api, aws, running):
    stray = provider_for(aws).create("stray", "t3.small", AMI, CreateOptions(pcm_id=STRAY))
    reconcile_cloud(aws)

    response = client_api.get(f"{URL}/orphans")

    assert response.status_code == 200
    (orphan,) = response.json()["results"]
    assert orphan["provider_id"] == stray.provider_id
    assert (orphan["pcm_id"], orphan["reason"], orphan["instance"]) == (STRAY, "unknown", None)
    assert orphan["provider_status"] == "running"


def test_the_orphans_are_refused_to_a_read_only_user_and_hidden_from_others(aws, running):
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from clouds.models import CloudAccess
    from tests.factories import UserFactory, api_key

    readers = Group.objects.create(name="readers")
    CloudAccess.objects.create(group=readers, cloud=aws, level="read")
    erin, frank = UserFactory(username="erin"), UserFactory(username="frank")
    erin.groups.add(readers)

    def get(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
        return client.get(f"{URL}/orphans")

    assert get(erin).status_code == 403
    assert get(erin).json()["error"] == "403"
    assert get(frank).status_code == 404
