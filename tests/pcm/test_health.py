"""/healthz and /readyz, and the worker heartbeat /readyz reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_q.models import Schedule
from django_q.signals import pre_execute

from pcm import health
from pcm.models import WorkerHeartbeat
from tests.instances.test_qcluster import running_qcluster, wait_for

pytestmark = pytest.mark.django_db

NO_WORKER = "no worker seen in the last 120 s"


@pytest.fixture(autouse=True)
def no_recent_beat(monkeypatch):
    """This process has not beaten yet (the signal's rate limit starts afresh)."""
    monkeypatch.setattr(health, "_last_beat", 0.0)


def test_healthz_says_ok_to_anyone_on_any_host(client):
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.7", HTTP_HOST="10.0.0.5:8000")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_until_a_worker_was_seen(client):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "workers": NO_WORKER},
    }


def test_readyz_is_200_after_a_heartbeat(client):
    health.beat()

    response = client.get("/readyz", HTTP_HOST="10.0.0.5:8000")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "workers": "ok"},
    }


def test_readyz_is_503_when_the_last_heartbeat_is_too_old(client, settings):
    WorkerHeartbeat.objects.create(host="w1", pid=1, seen_at=timezone.now() - timedelta(seconds=61))
    settings.PCM_WORKER_SEEN_SECONDS = 60

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == "no worker seen in the last 60 s"


def test_readyz_does_not_look_for_workers_when_told_not_to(client, settings):
    settings.PCM_WORKER_SEEN_SECONDS = 0

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_readyz_is_503_when_a_migration_is_not_applied(client):
    health.beat()
    # pcm's last migration: the check looks for what is missing up to each app's leaf.
    MigrationRecorder.Migration.objects.filter(app="pcm").latest("name").delete()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 migration(s) not applied"


def test_probes_take_only_get(client):
    response = client.post("/readyz")

    assert response.status_code == 405
    assert response.json()["error"] == "405"


def test_a_worker_starting_a_task_beats_at_most_every_few_seconds():
    pre_execute.send(sender="django_q", func=None, task={})
    first = WorkerHeartbeat.objects.get()
    pre_execute.send(sender="django_q", func=None, task={})

    assert WorkerHeartbeat.objects.get().seen_at == first.seen_at  # not written again
    assert (timezone.now() - first.seen_at).total_seconds() < 5


def test_an_idle_cluster_gets_a_heartbeat_task_every_minute():
    schedule = Schedule.objects.get(func="pcm.health.heartbeat")

    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)


def test_the_scheduled_heartbeat_forgets_hosts_gone_for_a_day():
    WorkerHeartbeat.objects.create(host="gone", pid=1, seen_at=timezone.now() - timedelta(days=2))

    health.heartbeat()

    assert not WorkerHeartbeat.objects.filter(host="gone").exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_cluster_makes_the_web_process_ready_as_soon_as_its_workers_start(client, tmp_path):
    assert client.get("/readyz").status_code == 503

    with running_qcluster(tmp_path / "qcluster.log"):  # no task: its workers beat at spawn
        assert wait_for(lambda: client.get("/readyz").status_code == 200), (
            tmp_path / "qcluster.log"
        ).read_text()
