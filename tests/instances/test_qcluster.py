"""End to end with a real `manage.py qcluster` process (not sync mode, not our in-process
worker): the API enqueues, the cluster provisions at moto, the row ends `running`."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from instances.models import Instance

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def database_url() -> str:
    """The test database, as the cluster process must see it."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or ""
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def running_qcluster(log: Path, **env: str):
    """`manage.py qcluster` on the test database, stopped afterwards."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "pcm.settings",
        "PCM_Q_WORKERS": "2",
        "PCM_WATCH_SECONDS": "1",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=out,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def qcluster(tmp_path):
    with running_qcluster(tmp_path / "qcluster.log") as process:
        yield process


def wait_for(predicate, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_real_cluster_takes_an_instance_to_running_and_deletes_it(client_api, aws, qcluster):
    body = client_api.post(URL, {"size": "small", "role": "web"}).json()

    def status():
        return Instance.objects.get(pk=body["id"]).status

    assert wait_for(lambda: status() == "running"), status()
    instance = Instance.objects.get(pk=body["id"])
    assert instance.provider_id.startswith("i-")
    assert instance.events.get(action="create").outcome == "succeeded"

    client_api.delete(f"{URL}/{body['id']}")
    assert wait_for(lambda: status() == "deleted"), status()
    assert qcluster.poll() is None  # the cluster is still up
