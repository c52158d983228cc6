"""/metrics: who may read it, and what it counts (provider and Inventory calls, instances,
the queue), in one process and across processes."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from clouds.services import provider_for
from instances import queue
from instances.models import Instance
from providers.base import CreateOptions, ProviderError
from providers.inventory.base import InventoryError
from providers.inventory.http import HttpInventory
from tests import inventory_server
from tests.factories import (
    AbstractImageFactory,
    AbstractSizeFactory,
    CloudFactory,
    EnvironmentFactory,
)
from tests.lifecycle import AMI

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
REMOTE = "203.0.113.7"


def scrape(client, **extra) -> dict[tuple, float]:
    """Every sample of one scrape: (name, sorted labels) -> value."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def assert_refused(response, status: int = 403) -> None:
    assert response.status_code == status
    assert response.json()["error"] == str(status)
    assert b"pcm_" not in response.content


# -- who may read them --------------------------------------------------------------------


def test_it_answers_a_loopback_client_with_http_and_pcm_metrics(client):
    client.get("/pcm_api/v2")

    samples = scrape(client)  # the test client's REMOTE_ADDR is 127.0.0.1
    names = {name for name, _ in samples}

    assert value(samples, "django_http_requests_total_by_method_total", method="GET") >= 1
    assert {"pcm_instances_busy", "pcm_queue_tasks"} <= names


def test_it_answers_ipv6_loopback_and_a_host_it_does_not_serve(client):
    scrape(client, REMOTE_ADDR="::1", HTTP_HOST="10.0.0.5:8000")


def test_it_refuses_a_remote_client_when_no_token_is_set(client):
    assert_refused(client.get("/metrics", REMOTE_ADDR=REMOTE))


def test_it_refuses_a_loopback_address_that_is_not_one(client):
    assert_refused(client.get("/metrics", REMOTE_ADDR="127.0.0.1.example"))


def test_with_a_token_it_answers_the_right_bearer_from_anywhere(client, settings):
    settings.PCM_METRICS_TOKEN = "metrics-token-1234"

    scrape(client, REMOTE_ADDR=REMOTE, HTTP_AUTHORIZATION="Bearer metrics-token-1234")


@pytest.mark.parametrize(
    "header",
    ["", "Bearer metrics-token-123", "Bearer metrics-token-12345", "Token metrics-token-1234"],
)
def test_with_a_token_it_refuses_a_wrong_or_missing_one(client, settings, header):
    settings.PCM_METRICS_TOKEN = "metrics-token-1234"

    assert_refused(client.get("/metrics", REMOTE_ADDR=REMOTE, HTTP_AUTHORIZATION=header))


def test_with_a_token_loopback_needs_it_too(client, settings):
    """A reverse proxy on the same host makes every client look local."""
    settings.PCM_METRICS_TOKEN = "metrics-token-1234"

    assert_refused(client.get("/metrics"))


def test_it_takes_only_get(client):
    assert_refused(client.post("/metrics"), 405)


def test_it_is_not_in_the_api_schema(api):
    schema = api.get("/pcm_api/schema?format=json").json()

    assert not any(path.startswith(("/metrics", "/healthz", "/readyz")) for path in schema["paths"])


# -- provider and Inventory calls ---------------------------------------------------------


def test_a_provider_call_is_timed_by_cloud_and_operation(client, aws):
    seconds = "pcm_provider_call_duration_seconds_count"
    labels = {"cloud": "AWSLAB-1", "operation": "list_sizes"}
    before = scrape(client)

    provider_for(aws).list_sizes()

    after = scrape(client)
    assert value(after, seconds, **labels) == value(before, seconds, **labels) + 1
    errors = "pcm_provider_call_errors_total"
    assert value(after, errors, **labels) == value(before, errors, **labels)


def test_a_failing_provider_call_is_counted_as_an_error(client, aws):
    labels = {"cloud": "AWSLAB-1", "operation": "create"}
    before = scrape(client)

    with pytest.raises(ProviderError):
        provider_for(aws).create("web-1", "t3.nonexistent", AMI, CreateOptions(pcm_id="p-1"))

    after = scrape(client)
    for name in ("pcm_provider_call_errors_total", "pcm_provider_call_duration_seconds_count"):
        assert value(after, name, **labels) == value(before, name, **labels) + 1


def test_inventory_calls_are_timed_and_failures_counted(client):
    service = inventory_server.InventoryService()
    labels = {"backend": "http", "operation": "reserve"}
    before = scrape(client)

    with inventory_server.serve(service) as url:
        inventory = HttpInventory({"base_url": url, "timeout": 2}, {"token": service.token})
        inventory.reserve(cloud="C", role="web", environment="dev", pcm_id="p-1")
        service.down = True
        with pytest.raises(InventoryError):
            inventory.reserve(cloud="C", role="web", environment="dev", pcm_id="p-2")

    after = scrape(client)
    count = "pcm_inventory_call_duration_seconds_count"
    errors = "pcm_inventory_call_errors_total"
    assert value(after, count, **labels) == value(before, count, **labels) + 2
    assert value(after, errors, **labels) == value(before, errors, **labels) + 1


def test_calls_made_in_other_processes_are_added_up_in_multiprocess_mode(
    client, tmp_path, monkeypatch
):
    """A qcluster worker makes the provider calls; the web process must show them."""
    code = (
        "import time; from providers import telemetry\n"
        "for _ in range(3): telemetry.provider_call('LAB-9', 'create', time.monotonic())\n"
        "telemetry.provider_call('LAB-9', 'create', time.monotonic(), 'refused')\n"
    )
    for _ in range(2):  # two worker processes
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            check=True,
            timeout=60,
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    samples = scrape(client)

    labels = {"cloud": "LAB-9", "operation": "create"}
    assert value(samples, "pcm_provider_call_duration_seconds_count", **labels) == 8
    assert value(samples, "pcm_provider_call_errors_total", **labels) == 2
    assert ("pcm_queue_tasks", (("state", "waiting"),)) in samples  # the database's gauges too


# -- what the database says ---------------------------------------------------------------


def test_instances_by_cloud_and_status_match_the_rows(client):
    size, image, env = AbstractSizeFactory(), AbstractImageFactory(), EnvironmentFactory()
    lab, prod = CloudFactory(name="LAB-1"), CloudFactory(name="PROD-1")
    rows = [(lab, "running"), (lab, "running"), (lab, "error"), (prod, "pending")]
    for n, (cloud, status) in enumerate(rows):
        Instance.objects.create(
            cloud=cloud,
            name=f"i-{n}",
            environment=env,
            size=size,
            image=image,
            provider_size_id="s",
            provider_image_id="i",
            status=status,
            busy_until=timezone.now() + timedelta(minutes=1) if n == 0 else None,
        )

    samples = scrape(client)

    gauges = {
        (dict(labels)["cloud"], dict(labels)["status"]): count
        for (name, labels), count in samples.items()
        if name == "pcm_instances"
    }
    assert gauges == {("LAB-1", "running"): 2, ("LAB-1", "error"): 1, ("PROD-1", "pending"): 1}
    assert value(samples, "pcm_instances_busy") == 1


def test_queued_tasks_are_counted_waiting_or_held(client, django_capture_on_commit_callbacks):
    queue.enqueue("watch", uuid.uuid4())
    queue.enqueue("watch", uuid.uuid4())
    queue.later("watch", 300, uuid.uuid4())

    samples = scrape(client)

    assert value(samples, "pcm_queue_tasks", state="waiting") == 2
    assert value(samples, "pcm_queue_tasks", state="held") == 1
