"""The bad-input catalogue: each a clear 4xx, never a 500, nothing half-written."""

from __future__ import annotations

import json

import pytest

from instances.models import Instance
from providers.inventory.models import SystemRecord
from tests import inventory_server

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def nothing_written():
    return not Instance.objects.exists() and not SystemRecord.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ('{"size": "small",', "application/json", 400, "JSON parse error"),
        ("size=small", "application/x-www-form-urlencoded", 415, "Unsupported media type"),
        ('"small"', "application/json", 400, "must be a JSON object"),
        ('{"size": ["small"]}', "application/json", 400, "size must be a string"),
        ('{"size": 3}', "application/json", 400, "size must be a string"),
        ('{"role": {"name": "web"}}', "application/json", 400, "role must be a string"),
        ('{"size": "small", "extra": "ec2"}', "application/json", 400, "extra must be an object"),
        ('{"size": "small", "extra": {"ec2": {"nope": 1}}}', "application/json", 400, "accepted: "),
        (json.dumps({"size": "ß" * 10000}), "application/json", 400, "does not exist"),
        (
            json.dumps({"size": "small", "environment": "prød-🚀"}),
            "application/json",
            400,
            "Environment prød-🚀 does not exist",
        ),
        (
            '{"size": "small", "pad": "' + "x" * (10 * 1024 * 1024) + '"}',
            "application/json",
            413,
            "at most",
        ),
    ],
)
def test_bad_create_bodies(client_api, aws, body, content_type, status, message):
    response = client_api.client.post(URL, data=body, content_type=content_type)

    assert response.status_code == status
    assert response.json()["error"] == str(status)
    assert message in response.json()["message"]
    assert nothing_written()


@pytest.mark.parametrize("name", ["bad name!", "x" * 64, "-starts-with-dash", "ümlaut"])
def test_a_name_clouds_would_refuse_is_refused_and_released(client_api, aws, name):
    from clouds.models import InventoryBackend

    service = inventory_server.InventoryService()
    service.handle = lambda method, path, body, real=service.handle: (
        (201, {"name": name}) if method == "POST" else real(method, path, body)
    )
    with inventory_server.serve(service) as url:
        backend = InventoryBackend(name="corp", plugin="http", options={"base_url": url})
        backend.credentials = {"token": service.token}
        backend.save()
        aws.inventory = backend
        aws.save()

        response = client_api.post(URL, {"size": "small"})

    assert response.status_code == 503
    assert "which clouds refuse" in response.json()["message"]
    assert not Instance.objects.exists()
    assert any(call.startswith("DELETE /names/") for call in service.calls)


@pytest.mark.parametrize(
    "body", ['{"status": 1}', '{"status": null}', "[]", '{"status": "reboot", "x": 1}']
)
def test_bad_action_bodies(client_api, aws, worker, body):
    created = client_api.post(URL, {"size": "small"}).json()
    worker.run()

    response = client_api.client.put(
        f"{URL}/{created['id']}", data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert Instance.objects.get().status == "running"
