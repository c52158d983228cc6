"""Inventory backends: the built-in one and an HTTP Inventory service."""

from __future__ import annotations

import pytest

from clouds.models import InventoryBackend
from instances.models import Instance
from instances.worker import reconcile_cloud
from providers.inventory.builtin import BuiltinInventory
from providers.inventory.models import SystemRecord
from providers.options import ConfigError
from tests import inventory_server
from tests.factories import CloudFactory

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


@pytest.fixture
def service():
    return inventory_server.InventoryService()


@pytest.fixture
def http_inventory(aws, service):
    with inventory_server.serve(service) as url:
        backend = InventoryBackend(
            name="corp", plugin="http", options={"base_url": url, "timeout": 2}
        )
        backend.credentials = {"token": service.token}
        backend.full_clean()
        backend.save()
        aws.inventory = backend
        aws.save()
        yield service


def test_the_builtin_template_is_checked():
    assert BuiltinInventory.validate_options({"template": "{cloud}-{seq:04}"})
    for bad in ("{environment}-{role}", "{env}-{seq}", "{seq"):
        with pytest.raises(ConfigError):
            BuiltinInventory.validate_options({"template": bad})


def test_a_template_per_cloud(client_api, aws):
    backend = InventoryBackend.objects.create(
        name="short", plugin="builtin", options={"template": "{cloud}-{seq:04}"}
    )
    aws.inventory = backend
    aws.save()

    assert client_api.post(URL, {"size": "small"}).json()["name"] == "AWSLAB-1-0001"


def test_an_http_inventory_names_records_and_forgets(client_api, aws, http_inventory, worker):
    body = client_api.post(URL, {"size": "small", "role": "web"}).json()
    assert body["name"] == "dev-web-1"

    worker.run()
    system = http_inventory.systems[("AWSLAB-1", "dev-web-1")]
    assert system["pcm_id"] == body["id"] and system["status"] == "running"
    assert system["provider_id"].startswith("i-")

    client_api.delete(f"{URL}/{body['id']}")
    worker.run()
    assert ("AWSLAB-1", "dev-web-1") not in http_inventory.systems


def test_an_inventory_down_at_reservation_is_a_503_and_nothing_is_created(
    client_api, aws, http_inventory
):
    http_inventory.down = True

    response = client_api.post(URL, {"size": "small"})

    assert response.status_code == 503
    assert response.json()["message"].startswith("The Inventory cannot name the instance")
    assert not Instance.objects.exists()


def test_a_refused_create_releases_the_reserved_name(client_api, aws, http_inventory):
    aws.quota_instances = 0
    aws.save()

    assert client_api.post(URL, {"size": "small"}).status_code == 507

    assert http_inventory.names == {}
    assert "DELETE /names/AWSLAB-1/dev-node-1" in http_inventory.calls


def test_a_create_that_fails_at_the_provider_releases_the_name(
    client_api, aws, http_inventory, worker
):
    aws.size_mappings.filter(size__name="small").update(provider_size_id="t3.imaginary")

    client_api.post(URL, {"size": "small"})
    worker.run()

    assert http_inventory.names == {}


def test_an_inventory_down_after_the_create_is_retried_until_it_answers(
    client_api, aws, http_inventory, worker
):
    body = client_api.post(URL, {"size": "small"}).json()
    http_inventory.down = True
    worker.run()
    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "running" and not instance.inventory_synced
    assert client_api.get(f"{URL}/{body['id']}").status_code == 200  # usable meanwhile

    reconcile_cloud(aws)
    worker.run()
    assert not Instance.objects.get(pk=body["id"]).inventory_synced  # still down

    http_inventory.down = False
    reconcile_cloud(aws)
    worker.run()
    assert Instance.objects.get(pk=body["id"]).inventory_synced
    assert ("AWSLAB-1", body["name"]) in http_inventory.systems


def test_builtin_records_are_in_the_admin(alice_browser, client_api, aws, worker):
    client_api.post(URL, {"size": "small", "role": "web"})
    worker.run()

    page = alice_browser.get("/admin/inventory/systemrecord/?q=dev-web")

    assert page.status_code == 200
    assert b"dev-web-001" in page.content
    assert SystemRecord.objects.get().state == "registered"


def test_the_http_inventory_token_is_never_shown(alice_browser, aws, http_inventory):
    backend = InventoryBackend.objects.get()

    page = alice_browser.get(f"/admin/clouds/inventorybackend/{backend.pk}/change/")

    assert page.status_code == 200
    assert http_inventory.token.encode() not in page.content


def test_the_sequence_belongs_to_the_name_prefix_whatever_the_cloud():
    inventory = BuiltinInventory({}, {})
    CloudFactory(name="A")
    names = [
        inventory.reserve(cloud=cloud, role="web", environment="dev", pcm_id=str(n))
        for n, cloud in enumerate(["A", "A", "B"])
    ]

    assert names == ["dev-web-001", "dev-web-002", "dev-web-003"]
    assert SystemRecord.objects.count() == 3


def test_an_inventory_without_its_credentials_is_a_503_not_a_500(client_api, aws):
    backend = InventoryBackend.objects.create(
        name="corp", plugin="http", options={"base_url": "http://127.0.0.1:9", "timeout": 2}
    )
    aws.inventory = backend
    aws.save()

    response = client_api.post(URL, {"size": "small"})

    assert response.status_code == 503
    assert "has no credentials" in response.json()["message"]
    assert not Instance.objects.exists()
