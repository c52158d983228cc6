"""Logs: plain or JSON lines, each with its request id, and one request id that follows a
create from the API through the worker to the provider and the Inventory."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clouds.models import InventoryBackend
from instances.models import Instance
from pcm.middleware import RequestIdLogFilter
from tests import inventory_server

ROOT = Path(__file__).resolve().parents[2]
URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"

# One provider call and one request's line, logged the way a worker and a view log them.
LOG_SOME_LINES = """
import django, time
django.setup()
from pcm.middleware import request_id_var
from providers import telemetry
request_id_var.set("trace-42")
telemetry.provider_call("AWSLAB-1", "list sizes", time.monotonic())
"""


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pcm.settings",
        "PCM_DATA_DIR": str(tmp_path),
        **env,
    }
    environment.pop("PCM_LOG_FORMAT", None) if "PCM_LOG_FORMAT" not in env else None
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_json_logs_are_one_object_a_line_with_the_request_id(tmp_path):
    result = run_python(LOG_SOME_LINES, tmp_path, PCM_LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "trace-42"
    assert (line["level"], line["logger"]) == ("INFO", "providers.calls")
    assert (line["cloud"], line["operation"], line["outcome"]) == ("AWSLAB-1", "list_sizes", "ok")
    assert isinstance(line["duration_ms"], float) and line["time"]


def test_plain_logs_are_the_default(tmp_path):
    result = run_python(LOG_SOME_LINES, tmp_path)

    assert result.returncode == 0, result.stderr
    line = result.stderr.strip()
    assert " INFO providers.calls [trace-42] provider call cloud=AWSLAB-1" in line
    assert "operation=list_sizes" in line and "outcome=ok" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_an_unknown_log_format_is_refused(tmp_path):
    result = run_python(LOG_SOME_LINES, tmp_path, PCM_LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "PCM_LOG_FORMAT='xml' is not plain or json" in result.stderr


# -- one request id from the API to the provider and the Inventory ------------------------


@pytest.fixture
def inventory_calls(aws):
    """AWSLAB-1 names its instances with an HTTP Inventory; the calls it received, with
    their X-Request-ID."""
    service = inventory_server.InventoryService()
    with inventory_server.serve(service) as url:
        backend = InventoryBackend(name="corp", plugin="http", options={"base_url": url})
        backend.credentials = {"token": service.token}
        backend.save()
        aws.inventory = backend
        aws.save()
        yield service.request_ids


@pytest.fixture
def logs(caplog):
    """Every INFO record, with its request id as the console handler gives it."""
    caplog.handler.addFilter(RequestIdLogFilter())
    caplog.set_level(logging.INFO)
    return caplog


@pytest.mark.django_db
def test_one_request_id_follows_a_create_to_the_provider_and_the_inventory(
    client_api, aws, worker, inventory_calls, logs
):
    response = client_api.post(URL, {"size": "small", "role": "web"}, HTTP_X_REQUEST_ID="trace-7")
    assert response.status_code == 202
    assert response["X-Request-ID"] == "trace-7"
    assert "provision" in worker.run()

    mine = [record for record in logs.records if record.request_id == "trace-7"]
    requests = [r.getMessage() for r in mine if r.name == "pcm.requests"]
    calls = {(r.call, r.operation) for r in mine if r.name == "providers.calls"}
    assert requests and requests[0].startswith(f"POST {URL} 202")
    assert {("inventory", "reserve"), ("provider", "create"), ("inventory", "register")} <= calls
    assert all(r.cloud == "AWSLAB-1" for r in mine if getattr(r, "call", "") == "provider")
    assert inventory_calls == [("POST", "trace-7"), ("PUT", "trace-7")]

    instance = Instance.objects.get(pk=response.json()["id"])
    assert instance.status == "running"
    events = list(instance.events.all())
    assert [(e.action, e.outcome) for e in events] == [("create", "succeeded")]
    assert {e.request_id for e in events} == {"trace-7"}


@pytest.mark.django_db
def test_a_worker_side_event_carries_the_request_that_caused_it(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()
    instance = Instance.objects.get(pk=body["id"])
    # The delete's own event is finished by the worker's later look (watch), which
    # writes an event of its own when the client's is gone.
    client_api.delete(f"{URL}/{body['id']}", HTTP_X_REQUEST_ID="trace-delete")
    instance.events.filter(action="delete").delete()

    worker.run()

    delete = instance.events.get(action="delete")
    assert (delete.request_id, delete.outcome) == ("trace-delete", "succeeded")
    assert delete.actor == "pcm"  # written by the worker, not by the request
