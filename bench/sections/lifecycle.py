"""CPU per instance lifecycle: N instances created through the API (8 clients), all
`running`, then all deleted through the API (8 clients) until all are `deleted`, with a
cluster of 8 workers at raw moto. Reported: CPU seconds per instance of PCM's own
processes, the web server (gunicorn master and workers) and the cluster (the qcluster and
every process under it) apart and in total, and moto's for scale; each a difference of
/proc readings from just before the first POST to just after the last instance is
deleted; and the wall time. moto and the web server are warmed first (moto's first EC2
call loads its data: seconds of CPU), and the cluster by WARM lifecycles of its own
before the window: a worker's first tasks import what a worker imports lazily and
prepare its statements, a cost per cluster start (8 workers: about a second of CPU) that
spread over N instances made the figure depend on N."""

from __future__ import annotations

import time

from bench.cpu import cpu_seconds
from bench.fixtures import Site, clear_instances, wait_for
from bench.load import hammer, send_each
from bench.servers import cluster, moto_pid, stop
from clouds.models import Cloud
from clouds.services import provider_for
from instances.models import Instance

CLIENTS = 8
WARM = 16  # lifecycles before the window: two per worker


def bench_lifecycle(site: Site, count: int) -> dict:
    site.moto.reset()
    clear_instances()
    _warm(site)
    workers = cluster(8)
    try:
        _create(site, WARM)
        wait_for("running", WARM)
        _delete(site, WARM)
        wait_for("deleted", WARM)
        trees = {"web": site.web.pid, "worker": workers.pid, "moto": moto_pid(site.moto.url)}
        before = {name: cpu_seconds(pid) for name, pid in trees.items()}
        started_at = time.monotonic()
        _create(site, count)
        running_at = wait_for("running", count)
        _delete(site, count)
        deleted_at = wait_for("deleted", WARM + count)
        used = {name: cpu_seconds(pid) - before[name] for name, pid in trees.items()}
    finally:
        stop(workers)
    per = {name: round(seconds / count, 4) for name, seconds in used.items()}
    return {
        "instances": count,
        "cpu_s_per_instance": {
            "web": per["web"],
            "worker": per["worker"],
            "total": round((used["web"] + used["worker"]) / count, 4),
            "moto": per["moto"],
        },
        "cpu_s": {name: round(seconds, 2) for name, seconds in used.items()},
        "wall_s": round(deleted_at - started_at, 2),
        "to_running_s": round(running_at - started_at, 2),
    }


def _warm(site: Site) -> None:
    provider_for(Cloud.objects.get(pk=site.cloud.pk)).driver.list_nodes()
    send_each("GET", [site.instances_url()] * 8, site.headers, clients=2)


def _create(site: Site, count: int) -> None:
    result = hammer(
        site.instances_url(),
        site.headers,
        clients=CLIENTS,
        seconds=600,
        method="POST",
        body={"size": "small"},
        limit=count,
    )
    assert result["errors"] == 0, result


def _delete(site: Site, count: int) -> None:
    ids = Instance.objects.exclude(status="deleted").values_list("pk", flat=True)
    urls = [f"{site.instances_url()}/{pk}" for pk in ids]
    assert len(urls) == count
    result = send_each("DELETE", urls, site.headers, clients=CLIENTS)
    assert result["errors"] == 0, result
