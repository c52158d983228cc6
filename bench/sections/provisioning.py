"""Creates through PCM's API: how fast the 202 comes (`accept`, `accept_slow`) and how
many instances per second reach `running` (`throughput`, `throughput_slow`) against
direct libcloud creates at the same moto."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.fixtures import Site, clear_instances, slow_cloud, wait_for
from bench.load import hammer
from bench.servers import cluster, stop
from clouds.models import Cloud
from clouds.services import provider_for
from providers.base import CreateOptions

CREATE = {"size": "small"}
POSTING_CLIENTS = 8


def bench_accept(site: Site, count: int, delay: float) -> dict:
    """Time to the 202 of `count` POSTs from 16 clients, with a cluster of 8 workers
    provisioning meanwhile, while every provider call takes `delay` seconds longer."""
    clear_instances()
    with slow_cloud(site, delay) as faults:
        workers = cluster(8)
        try:
            result = hammer(
                site.instances_url(),
                site.headers,
                clients=16,
                seconds=120,
                method="POST",
                body=CREATE,
                limit=count,
            )
        finally:
            stop(workers)
    return {**result, "provider_delay_s": faults.delay}


def bench_throughput(site: Site, count: int, workers: list[int], delay: float = 0.0):
    """PCM from the POST to `running` against direct creates, per W; with `delay`, every
    provider call of both sides goes through a proxy that adds that many seconds, as a
    cloud's API latency would."""
    if not delay:
        return _throughput(site, count, workers)
    with slow_cloud(site, delay):
        return _throughput(site, count, workers)


def _throughput(site: Site, count: int, workers: list[int]) -> list[dict]:
    rows = []
    for w in workers:
        site.moto.reset()
        clear_instances()
        direct = direct_rate(site, count, w)
        site.moto.reset()
        pcm = pcm_rate(site, [site.base], count, [w])
        rows.append(
            {
                "workers": w,
                "pcm_per_s": round(pcm, 1),
                "direct_per_s": round(direct, 1),
                "ratio": round(pcm / direct, 3),
            }
        )
        print(f"  W={w}: PCM {pcm:.1f}/s, direct {direct:.1f}/s", flush=True)
    return rows


def direct_rate(site: Site, count: int, threads: int) -> float:
    """Instances/s of `count` provider creates (libcloud alone, no breaker) from `threads`
    threads, at wherever the cloud points now."""
    cloud = Cloud.objects.get(pk=site.cloud.pk)
    local = threading.local()
    # Client tokens new to this run: the latency proxy, like EC2, answers a token it has
    # seen at once, which made a second run at the same proxy look 8 times as fast.
    run = uuid.uuid4().hex[:8]

    def create(n: int) -> None:
        if not hasattr(local, "provider"):  # one connection per thread, as each worker has
            local.provider = provider_for(cloud)
            local.provider.guard = None
        options = CreateOptions(pcm_id=f"d-{run}-{n}")
        local.provider.create(f"direct-{n}", "t3.small", "ami-760aaa0f", options)

    started_at = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(create, range(count)))
    return count / (time.monotonic() - started_at)


def pcm_rate(site: Site, bases: list[str], count: int, clusters: list[int]) -> float:
    """Instances/s from the first POST until all `count` are `running` in PCM's database:
    8 HTTP clients posting (spread over `bases`, one URL per web server), one qcluster
    per entry of `clusters` (its worker count), started before the clock."""
    clear_instances()
    processes = [cluster(w) for w in clusters]
    try:
        started_at = time.monotonic()
        result = hammer(
            [site.instances_url(base) for base in bases],
            site.headers,
            clients=POSTING_CLIENTS,
            seconds=600,
            method="POST",
            body=CREATE,
            limit=count,
        )
        assert result["errors"] == 0, result
        return count / (wait_for("running", count) - started_at)
    finally:
        for process in processes:
            stop(process)
