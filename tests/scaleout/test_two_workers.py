"""Scale-out on one machine: two `manage.py qcluster` processes share django-q2's ORM broker
in PostgreSQL; 100 creates posted concurrently to a live server all end `running`, each
created exactly once at moto, and both processes took part of the work.

It needs PostgreSQL (what several machines share; SQLite is one machine's file): on another
database it is skipped, unless PCM_REQUIRE_SCALEOUT is set (CI's PostgreSQL pass sets it),
where it must run and fails instead.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django_q.models import OrmQ, Task

from clouds.services import provider_for
from instances.models import Instance, InstanceEvent
from tests import fault_proxy
from tests.factories import api_key
from tests.instances.test_qcluster import running_qcluster, wait_for

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
REQUIRED = bool(os.environ.get("PCM_REQUIRE_SCALEOUT"))
if not ON_POSTGRES and not REQUIRED:
    pytest.skip(
        "needs PostgreSQL: set DATABASE_URL=postgres://... (with PCM_REQUIRE_SCALEOUT=1 this "
        "is a failure instead)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"
INSTANCES = 100
CLIENTS = 8
WORKERS_PER_CLUSTER = "3"
# django-q2 logs, at INFO, "<worker> processing <task name> '<function>'" in the process
# that runs the task; PCM names a task "<task> <instance id>" (instances/queue.py).
PROVISIONED = re.compile(r"processing provision ([0-9a-f-]{36}) 'instances\.tasks\.provision'")


@pytest.fixture
def postgres():
    if not ON_POSTGRES:
        pytest.fail(
            "PCM_REQUIRE_SCALEOUT is set but the database is "
            f"{settings.DATABASES['default']['ENGINE']}: set DATABASE_URL=postgres://..."
        )


@pytest.fixture
def calls(aws, moto):
    """Every EC2 call of the test goes through a recording proxy in front of moto."""
    recorded = fault_proxy.Faults()  # no fault set: it only forwards and records
    with fault_proxy.proxy(moto.url, recorded) as url:
        aws.options = {**aws.options, "endpoint": url}
        aws.save()
        yield recorded


@pytest.fixture
def clusters(postgres, calls, tmp_path):
    """Two qcluster processes on the test database, each with its own log; both are up
    (their log says so) before the test posts anything."""
    logs = [tmp_path / "qcluster-a.log", tmp_path / "qcluster-b.log"]
    # django-q2 at INFO logs the "processing" lines that provisioned_by() reads.
    env = {"PCM_Q_WORKERS": WORKERS_PER_CLUSTER, "PCM_QUEUE_LOG_LEVEL": "INFO"}
    env["PCM_LOG_FORMAT"] = "plain"
    with ExitStack() as stack:
        processes = [stack.enter_context(running_qcluster(log, **env)) for log in logs]
        assert wait_for(lambda: all("running." in log.read_text() for log in logs), 30), [
            log.read_text()[-2000:] for log in logs
        ]
        yield processes, logs


def provisioned_by(log: Path) -> list[str]:
    return PROVISIONED.findall(log.read_text())


def test_two_clusters_on_postgresql_create_every_instance_exactly_once(
    clusters, calls, aws, bob, live_server
):
    processes, logs = clusters
    token = api_key(bob)

    sessions: list[requests.Session] = []
    local = threading.local()

    def create(_) -> tuple[int, str]:
        # One kept-alive connection per client: each one holds a server thread and its
        # database connection until it is closed.
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Token {token}"
            sessions.append(local.session)
        answer = local.session.post(live_server.url + URL, json={"size": "small"}, timeout=30)
        return answer.status_code, answer.json()["id"] if answer.status_code == 202 else answer.text

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(create, range(INSTANCES)))
    finally:
        for session in sessions:
            session.close()
    assert {status for status, _ in answers} == {202}, answers[:3]
    ids = {instance_id for _, instance_id in answers}
    assert len(ids) == INSTANCES

    def statuses() -> Counter:
        return Counter(Instance.objects.values_list("status", flat=True))

    assert wait_for(lambda: statuses() == {"running": INSTANCES}, 90), statuses()
    # Let the follow-ups already queued (watches, Inventory updates) finish too.
    assert wait_for(lambda: not OrmQ.objects.exists(), 30), OrmQ.objects.count()
    assert all(process.poll() is None for process in processes)  # both clusters still up

    # At the provider: one node per instance, tagged with its id, nothing else.
    nodes = [node for node in provider_for(aws).list() if node.status != "deleted"]
    per_instance = Counter(node.pcm_id for node in nodes)
    assert len(nodes) == INSTANCES
    assert set(per_instance) == ids
    assert set(per_instance.values()) == {1}
    rows = Instance.objects.all()
    assert {row.provider_id for row in rows} == {node.provider_id for node in nodes}

    # One create call per instance reached the provider: no delivery ran twice into it.
    creates = Counter(calls.tokens("RunInstances"))
    assert set(creates) == ids
    assert set(creates.values()) == {1}, creates.most_common(3)
    assert {row.attempts for row in rows} == {1}  # each claimed for a create once
    create_events = InstanceEvent.objects.filter(action="create")
    per_event = Counter(str(pk) for pk in create_events.values_list("instance_id", flat=True))
    assert set(per_event) == ids
    assert set(per_event.values()) == {1}
    assert set(create_events.values_list("outcome", flat=True)) == {"succeeded"}

    # Both processes took provision tasks; together each exactly once, and all succeeded.
    taken = [provisioned_by(log) for log in logs]
    assert all(taken), [len(t) for t in taken]
    per_task = Counter(taken[0] + taken[1])
    assert set(per_task) == ids
    assert set(per_task.values()) == {1}, per_task.most_common(3)
    provisions = Task.objects.filter(func="instances.tasks.provision")
    assert provisions.filter(success=True).count() == INSTANCES
    assert not Task.objects.filter(func__startswith="instances.tasks.", success=False).exists()
    print(f"provision tasks per cluster: {[len(t) for t in taken]}")
