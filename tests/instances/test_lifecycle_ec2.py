"""An instance's life on an EC2-compatible cloud (moto), through the HTTP API."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from clouds.services import provider_for
from providers.inventory.models import SystemRecord

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


@pytest.fixture
def running(client_api, aws, worker) -> dict:
    body = client_api.post(URL, {"size": "small", "role": "web"}).json()
    worker.run()
    return client_api.get(f"{URL}/{body['id']}").json()


def provider_calls(operation: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "pcm_provider_call_duration_seconds_count",
            {"cloud": "AWSLAB-1", "operation": operation},
        )
        or 0
    )


def test_one_look_at_the_cloud_sees_all_its_new_nodes_running(client_api, aws, worker):
    ids = [client_api.post(URL, {"size": "small"}).json()["id"] for _ in range(5)]
    creates, looks = provider_calls("create"), provider_calls("get")

    worker.run()

    assert [client_api.get(f"{URL}/{i}").json()["status"] for i in ids] == ["running"] * 5
    assert provider_calls("create") - creates == 5
    assert provider_calls("get") - looks == 1  # one DescribeInstances for the five
    assert SystemRecord.objects.filter(state="registered").count() == 5


def put(client_api, instance, status, via="clouds"):
    return client_api.put(
        f"/pcm_api/v2/{via}/AWSLAB-1/instances/{instance['id']}", {"status": status}
    )


def test_get_by_id_and_by_name(client_api, running):
    by_id = client_api.get(f"{URL}/{running['id']}")
    by_name = client_api.get(f"{URL}/{running['name']}")

    assert by_id.status_code == by_name.status_code == 200
    assert by_id.json() == by_name.json()


def test_an_unknown_instance_is_a_404_that_names_it_and_the_cloud(client_api, aws):
    response = client_api.get(f"{URL}/a50eb0d4-64bf-11e2-a2be-57c6bf471819")

    assert response.status_code == 404
    assert response.json() == {
        "error": "404",
        "message": "Instance a50eb0d4-64bf-11e2-a2be-57c6bf471819 does not exist in cloud AWSLAB-1",
    }


def test_reboot_through_the_locations_alias(client_api, running, worker):
    response = put(client_api, running, "reboot", via="locations")

    assert response.status_code == 202
    assert response.json()["status"] == "rebooting"
    worker.run()
    assert client_api.get(f"{URL}/{running['id']}").json()["status"] == "running"
    events = client_api.get(f"{URL}/{running['id']}/events").json()["results"]
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("create", "succeeded"),
        ("reboot", "succeeded"),
    ]


def test_stop_then_start(client_api, running, worker):
    assert put(client_api, running, "stopped").json()["status"] == "stopping"
    worker.run()
    stopped = client_api.get(f"{URL}/{running['id']}?refresh=true").json()
    assert (stopped["status"], stopped["provider_status"]) == ("stopped", "stopped")

    assert client_api.patch(f"{URL}/{running['id']}", {"status": "running"}).status_code == 202
    worker.run()
    assert client_api.get(f"{URL}/{running['id']}").json()["status"] == "running"


def test_a_refresh_that_finds_a_new_status_tells_the_inventory_under_its_request_id(
    client_api, running, aws, worker
):
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    provider_for(aws).stop(running["provider_id"])  # behind PCM's back
    worker.broker.purge_queue()

    body = client_api.get(
        f"{URL}/{running['id']}?refresh=true", HTTP_X_REQUEST_ID="refresh-1"
    ).json()

    tasks = [SignedPackage.loads(q.payload) for q in OrmQ.objects.all()]
    assert body["status"] == "stopped"
    assert [(t["func"], t["args"]) for t in tasks] == [
        ("instances.tasks.inventory_sync", (running["id"], "refresh-1"))
    ]


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        (None, "running", "is running: only a stopped instance can be started"),
        ("stopped", "reboot", "is stopped: only a running instance can be rebooted"),
        ("stopped", "stopped", "is stopped: only a running instance can be stopped"),
    ],
)
def test_an_action_that_makes_no_sense_now_is_a_409_that_says_why(
    client_api, running, worker, first, then, message
):
    if first:
        put(client_api, running, first)
        worker.run()

    response = put(client_api, running, then)

    assert response.status_code == 409
    assert response.json()["message"] == f"Instance {running['name']} {message}"


def test_an_unknown_status_is_a_400_listing_the_allowed_ones(client_api, running):
    response = put(client_api, running, "paused")

    assert response.status_code == 400
    assert (
        response.json()["message"]
        == "status 'paused' cannot be set; allowed: reboot, stopped, running"
    )


def test_console_log_is_text(client_api, running):
    response = client_api.get(f"{URL}/{running['id']}/console_log")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "Linux version" in response.content.decode()


def test_delete_ends_deleted_at_the_provider_and_in_the_inventory(client_api, aws, running, worker):
    response = client_api.delete(f"{URL}/{running['id']}")

    assert response.status_code == 202
    assert response.json()["status"] == "deleting"
    worker.run()
    deleted = client_api.get(f"{URL}/{running['id']}").json()
    assert deleted["status"] == "deleted"
    assert provider_for(aws).get(running["provider_id"]).raw_status == "terminated"
    assert not SystemRecord.objects.filter(name=running["name"]).exists()
    again = client_api.delete(f"{URL}/{running['id']}")
    assert again.status_code == 409
    assert again.json()["message"] == f"Instance {running['name']} is deleted already"
    assert put(client_api, deleted, "reboot").status_code == 409


def test_a_delete_while_pending_never_leaves_a_node(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()

    assert client_api.delete(f"{URL}/{body['id']}").status_code == 202
    worker.run()

    assert client_api.get(f"{URL}/{body['id']}").json()["status"] == "deleted"
    assert [n for n in provider_for(aws).list() if n.status != "deleted"] == []


def test_lists_filter_and_paginate(client_api, aws, worker):
    for body in (
        {"size": "small", "role": "web"},
        {"size": "small", "role": "web"},
        {"size": "medium", "role": "db"},
    ):
        client_api.post(URL, body)

    web = client_api.get(URL, {"role": "web"}).json()
    pending = client_api.get(URL, {"status": "pending", "page_size": 2}).json()
    named = client_api.get(URL, {"name": "dev-db-001"}).json()
    everywhere = client_api.get("/pcm_api/v2/instances", {"cloud": "AWSLAB-1"}).json()
    bad = client_api.get(URL, {"status": "sleeping"})

    assert web["count"] == 2
    assert pending["count"] == 3 and len(pending["results"]) == 2 and pending["next"]
    assert [i["name"] for i in named["results"]] == ["dev-db-001"]
    assert everywhere["count"] == 3
    assert bad.status_code == 400 and "sleeping" in bad.json()["message"]


def test_refresh_of_an_unreachable_cloud_is_a_503_and_plain_reads_still_work(
    client_api, aws, running
):
    from tests import peers

    aws.options = {**aws.options, "endpoint": peers.closed_port_url(), "timeout": 2}
    aws.save()

    assert client_api.get(f"{URL}/{running['id']}").status_code == 200
    response = client_api.get(f"{URL}/{running['id']}?refresh=true")

    assert response.status_code == 503
    assert "Cannot reach the cloud" in response.json()["message"]


def test_refresh_takes_true_or_false_only(client_api, running):
    assert client_api.get(f"{URL}/{running['id']}?refresh=false").status_code == 200

    response = client_api.get(f"{URL}/{running['id']}?refresh=maybe")

    assert response.status_code == 400
    assert response.json()["message"] == "refresh must be true or false"
