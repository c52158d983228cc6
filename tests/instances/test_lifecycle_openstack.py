"""An instance's life on an OpenStack cloud (mimic), and a role that spreads over hosts."""

from __future__ import annotations

import json

import pytest

from clouds.services import provider_for

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/SNV-LAB-1/instances"


def test_create_reboot_and_delete(client_api, snv, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()
    running = client_api.get(f"{URL}/{body['id']}").json()
    assert (running["status"], running["provider_status"]) == ("running", "ACTIVE")
    assert provider_for(snv).get(running["provider_id"]).pcm_id == body["id"]

    assert client_api.put(f"{URL}/{body['id']}", {"status": "reboot"}).status_code == 202
    worker.run()
    assert client_api.get(f"{URL}/{body['id']}").json()["status"] in ("rebooting", "running")

    assert client_api.delete(f"{URL}/{body['id']}").status_code == 202
    worker.run()
    assert client_api.get(f"{URL}/{body['id']}").json()["status"] == "deleted"
    assert provider_for(snv).get(running["provider_id"]) is None


def test_a_console_the_cloud_lacks_is_a_clear_json_error(client_api, snv, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()

    response = client_api.get(f"{URL}/{body['id']}/console_log")

    assert response.status_code == 409
    assert response.json() == {
        "error": "409",
        "message": "Console log is not supported by this cloud (SNV-LAB-1)",
    }


def test_a_start_the_cloud_lacks_ends_in_last_error_not_in_a_lost_instance(client_api, snv, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()

    assert client_api.put(f"{URL}/{body['id']}", {"status": "stopped"}).status_code == 202
    worker.run()

    instance = client_api.get(f"{URL}/{body['id']}").json()
    assert instance["status"] == "running"  # what the cloud says
    assert instance["last_error"] == "Stop is not supported by this cloud"
    events = client_api.get(f"{URL}/{body['id']}/events").json()["results"]
    assert (events[-1]["action"], events[-1]["outcome"]) == ("stop", "failed")


def test_a_role_that_spreads_asks_for_different_hosts(client_api, snv, worker, mimic):
    first = client_api.post(URL, {"role": "web"}).json()
    worker.run()
    first_node = client_api.get(f"{URL}/{first['id']}").json()["provider_id"]
    client_api.post(
        URL, {"role": "web", "extra": {"openstack": {"os_scheduler_hints": {"group": "g1"}}}}
    )
    worker.run()

    creates = [line for line in mimic.log.read_text().splitlines() if "dev-web-002" in line]
    hints = next(line for line in creates if "os:scheduler_hints" in line)
    assert f'"different_host": ["{first_node}"]' in hints
    assert '"group": "g1"' in hints  # merged with the client's own


def test_a_server_that_errors_at_the_provider_is_error_with_the_reason(client_api, snv, worker):
    extra = {
        "openstack": {
            "metadata": {
                "create_server_failure": json.dumps({"message": "no valid host", "code": 400})
            }
        }
    }

    body = client_api.post(URL, {"size": "small", "extra": extra}).json()
    worker.run()

    instance = client_api.get(f"{URL}/{body['id']}").json()
    assert instance["status"] == "error"
    assert "no valid host" in instance["last_error"]
    events = client_api.get(f"{URL}/{body['id']}/events").json()["results"]
    assert events[-1]["outcome"] == "failed"
