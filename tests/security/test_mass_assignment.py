"""A client cannot set what PCM owns: status on create, provider id, creator, attempts..."""

from __future__ import annotations

import pytest

from instances.models import Instance

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


@pytest.mark.parametrize(
    "field",
    [
        {"status": "running"},
        {"provider_id": "i-0123"},
        {"created_by": "alice"},
        {"attempts": 0},
        {"id": "6f1c0a3e-0000-4000-8000-000000000001"},
        {"name": "my-own-name"},
        {"last_error": ""},
        {"cloud": "SNV-LAB-1"},
    ],
)
def test_server_owned_fields_are_refused_on_create(client_api, aws, field):
    response = client_api.post(URL, {"size": "small", **field})

    assert response.status_code == 400
    assert f"Unknown field(s) {next(iter(field))}" in response.json()["message"]
    assert not Instance.objects.exists()


def test_an_action_carries_nothing_else(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()
    before = Instance.objects.get(pk=body["id"])

    response = client_api.put(
        f"{URL}/{body['id']}", {"status": "reboot", "provider_id": "i-evil", "name": "x"}
    )

    assert response.status_code == 400
    after = Instance.objects.get(pk=body["id"])
    assert (after.provider_id, after.name, after.status, after.created_by_id) == (
        before.provider_id,
        before.name,
        before.status,
        before.created_by_id,
    )
