"""An instance's tags: returned on every read, filtered on in lists, replaced by PATCH
(no status change), and pushed to the EC2 instance's own tags (moto)."""

from __future__ import annotations

import pytest

from clouds.services import provider_for
from tests.factories import CloudFactory

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def ec2_tags(aws, provider_id: str) -> dict[str, str]:
    (node,) = provider_for(aws).driver.list_nodes(ex_node_ids=[provider_id])
    return {k: v for k, v in node.extra["tags"].items() if k not in ("Name", "pcm_id")}


@pytest.fixture
def tagged(client_api, aws, worker) -> list[dict]:
    bodies = [
        {"size": "small", "tags": {"team": "web", "tier": "front"}},
        {"size": "small", "tags": {"team": "web", "url": "https://a.example/x:y"}},
        {"size": "small", "tags": {"team": "db", "app:part": "primary"}},
        {"size": "small"},
    ]
    created = [client_api.post(URL, body).json() for body in bodies]
    worker.run()
    return created


def names(client_api, query: str, url: str = URL) -> list[str]:
    response = client_api.get(f"{url}?{query}")
    assert response.status_code == 200, response.json()
    return sorted(item["name"] for item in response.json()["results"])


def test_lists_filter_on_tags_all_of_them_must_match(client_api, tagged):
    first, second, third, _ = (item["name"] for item in tagged)

    assert names(client_api, "tag=team:web") == sorted([first, second])
    assert names(client_api, "tag=team:web&tag=tier:front") == [first]
    assert names(client_api, "tag=team") == sorted([first, second, third])
    assert names(client_api, "tag=url:https://a.example/x:y") == [second]  # ':' in a value
    assert names(client_api, "tag=app:part:primary") == [third]  # ':' in a key
    assert names(client_api, "tag=team:ops") == []
    assert names(client_api, "tag=&tag=team:db") == [third]  # an empty term asks nothing
    refused = client_api.get(f"{URL}?tag=team%00:web")  # as every text parameter
    assert refused.status_code == 400 and "NUL characters" in refused.json()["message"]
    # The list of every cloud takes the same filter.
    assert names(client_api, "tag=team:db", "/pcm_api/v2/instances") == [third]


def test_patch_replaces_the_tags_without_touching_the_status_and_the_cloud_follows(
    client_api, aws, tagged, worker
):
    instance = tagged[0]
    before = client_api.get(f"{URL}/{instance['id']}").json()
    assert ec2_tags(aws, before["provider_id"]) == {"team": "web", "tier": "front"}

    response = client_api.patch(f"{URL}/{instance['id']}", {"tags": {"team": "ops", "new": "1"}})

    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == {"new": "1", "team": "ops"}
    assert response.json()["status"] == "running"
    assert worker.run() == ["push_tags"]
    after = client_api.get(f"{URL}/{instance['id']}").json()
    assert after["tags"] == {"new": "1", "team": "ops"} and after["status"] == "running"
    assert ec2_tags(aws, before["provider_id"]) == {"team": "ops", "new": "1"}  # tier dropped
    events = client_api.get(f"{URL}/{instance['id']}/events").json()["results"]
    assert (events[-1]["action"], events[-1]["outcome"], events[-1]["detail"]) == (
        "tag",
        "succeeded",
        "the cloud's tags are set",
    )


def test_tags_set_before_the_node_exists_reach_it_once_it_does(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small", "tags": {"team": "web"}}).json()

    client_api.patch(f"{URL}/{body['id']}", {"tags": {"team": "late"}})
    worker.run()

    instance = client_api.get(f"{URL}/{body['id']}").json()
    assert instance["status"] == "running"
    assert ec2_tags(aws, instance["provider_id"]) == {"team": "late"}


def test_a_patch_with_the_same_tags_records_nothing(client_api, tagged, worker):
    instance = tagged[0]
    events = len(client_api.get(f"{URL}/{instance['id']}/events").json()["results"])

    response = client_api.patch(f"{URL}/{instance['id']}", {"tags": instance["tags"]})

    assert response.status_code == 200
    assert worker.run() == []
    assert len(client_api.get(f"{URL}/{instance['id']}/events").json()["results"]) == events


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"tags": {"pcm_id": "x"}}, "tags: the key 'pcm_id' is PCM's own"),
        ({"tags": "team=web"}, "tags must be an object of strings"),
        (
            {"tags": {"a": "b"}, "status": "reboot"},
            "Give one of status, tags, expires_at or lease per request",
        ),
        (
            {"tags": {"a": "b"}, "size": "large"},
            "Unknown field(s) size; accepted: status, tags, expires_at, lease",
        ),
        ({"name": "x"}, "Unknown field(s) name; accepted: status, tags, expires_at, lease"),
    ],
)
def test_bad_patches_are_400s(client_api, tagged, payload, message):
    response = client_api.patch(f"{URL}/{tagged[0]['id']}", payload)

    assert response.status_code == 400
    assert message in response.json()["message"]


def test_an_empty_patch_changes_nothing(client_api, tagged, worker):
    response = client_api.patch(f"{URL}/{tagged[0]['id']}", {})

    assert response.status_code == 200
    assert response.json()["tags"] == tagged[0]["tags"]
    assert worker.run() == []


def test_put_still_takes_only_a_status(client_api, tagged):
    response = client_api.put(f"{URL}/{tagged[0]['id']}", {"tags": {"a": "b"}})

    assert response.status_code == 400
    assert response.json()["message"] == "Unknown field(s) tags; accepted: status"


def test_a_read_only_user_cannot_change_tags(tagged, anonymous, catalogue):
    from django.contrib.auth.models import Group

    from clouds.models import Cloud, CloudAccess
    from tests.factories import UserFactory

    reader = UserFactory(username="reader")
    group = Group.objects.create(name="readers")
    reader.groups.add(group)
    CloudAccess.objects.create(group=group, cloud=Cloud.objects.get(name="AWSLAB-1"), level="read")
    anonymous.force_authenticate(reader)

    response = anonymous.patch(f"{URL}/{tagged[0]['id']}", {"tags": {}}, format="json")

    assert response.status_code == 403


def test_a_cloud_without_tags_of_its_own_keeps_them_in_pcm(api, catalogue):
    from instances.models import Instance, InstanceEvent

    cloud = CloudFactory(
        name="LV-1", provider="libvirt", options={"uri": "test:///default"}, credentials={}
    )
    instance = Instance.objects.create(
        cloud=cloud,
        name="dev-node-001",
        environment=catalogue["dev"],
        size=catalogue["sizes"]["small"],
        image=catalogue["images"]["centos-9"],
        provider_id="node-1",
        status="running",
    )

    response = api.patch(
        f"/pcm_api/v2/clouds/LV-1/instances/{instance.pk}", {"tags": {"a": "b"}}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["tags"] == {"a": "b"}
    event = InstanceEvent.objects.get(instance=instance, action="tag")
    assert event.outcome == "succeeded" and "kept by PCM" in event.detail
