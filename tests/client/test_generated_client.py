"""A client generated from PCM's OpenAPI document by openapi-python-client drives an
instance's life against a live PCM: create, get, reboot, delete. If the document lies about
a path, a parameter, a body or an answer, the generated code fails here."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import time

import pytest

from instances.models import Instance
from tests.factories import api_key
from tests.instances.test_qcluster import running_qcluster

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "pcm_generated_client"


@pytest.fixture
def generated(tmp_path, anonymous, monkeypatch):
    """The client package, generated from the schema PCM serves now."""
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(anonymous.get("/pcm_api/schema", {"format": "json"}).json()))
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run over the generated code
    generator = shutil.which("openapi-python-client", path=str(sys.prefix) + "/bin")
    assert generator, "openapi-python-client is in requirements-dev.txt"
    output = str(tmp_path / PACKAGE)
    subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(schema),
            "--meta",
            "none",
            "--output-path",
            output,
            "--config",
            str(config),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
        del sys.modules[name]


def until(fetch, wanted: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        instance = fetch()
        if instance.status.value == wanted:
            return instance
        time.sleep(0.3)
    raise AssertionError(f"still {instance.status.value}, not {wanted}, after {seconds} s")


def test_a_generated_client_creates_reads_reboots_and_deletes(
    generated, aws, bob, live_server, tmp_path
):
    from pcm_generated_client import AuthenticatedClient
    from pcm_generated_client.api.clouds import (
        clouds_instances_create,
        clouds_instances_destroy,
        clouds_instances_events_list,
        clouds_instances_retrieve,
        clouds_instances_update,
    )
    from pcm_generated_client.models import ActionRequest, ActionStatusEnum, CreateRequest

    client = AuthenticatedClient(base_url=live_server.url, token=api_key(bob), prefix="Token")
    cloud = "AWSLAB-1"

    with running_qcluster(tmp_path / "qcluster.log"), client:
        created = clouds_instances_create.sync_detailed(
            cloud, client=client, body=CreateRequest(size="small", role="web", tags={"t": "1"})
        )
        assert created.status_code == 202, created.content
        assert created.parsed.status.value == "pending"
        key = str(created.parsed.id)

        def fetch():
            return clouds_instances_retrieve.sync(cloud, key, client=client)

        running = until(fetch, "running")
        assert running.name == created.parsed.name and running.provider_id

        rebooted = clouds_instances_update.sync_detailed(
            cloud, key, client=client, body=ActionRequest(status=ActionStatusEnum.REBOOT)
        )
        assert rebooted.status_code == 202, rebooted.content
        until(fetch, "running")

        deleted = clouds_instances_destroy.sync_detailed(cloud, key, client=client)
        assert deleted.status_code == 202, deleted.content
        until(fetch, "deleted")

        events = clouds_instances_events_list.sync(cloud, key, client=client)
        assert [event.action for event in events.results][:3] == ["create", "reboot", "delete"]

    assert Instance.objects.get(pk=key).status == "deleted"
