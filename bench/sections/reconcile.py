"""One reconciliation cycle over N instances (at moto and as rows), its provider calls
counted and timed, against the same listing through libcloud alone."""

from __future__ import annotations

import time

from libcloud.compute.base import NodeImage, NodeSize

from bench.fixtures import Site, clear_instances, make_rows, point_at
from clouds.services import provider_for
from instances.worker import reconcile_cloud
from providers.base import Provider


def bench_reconcile(site: Site, sizes: list[int]) -> list[dict]:
    cloud = site.cloud
    point_at(cloud, site.moto.url, timeout=600)  # moto lists 10,000 instances slowly
    cloud.refresh_from_db()
    rows = []
    for count in sizes:
        site.moto.reset()
        clear_instances()
        driver = provider_for(cloud).driver
        ids = _nodes(driver, count)
        make_rows(cloud, count, provider_ids=ids)
        # The baseline: the same provider listing, through libcloud alone.
        started_at = time.monotonic()
        listed = len(driver.list_nodes())
        list_seconds = time.monotonic() - started_at
        assert listed >= count
        seconds, calls = _timed_cycle(cloud)
        rows.append(
            {
                "instances": count,
                "seconds": round(seconds, 2),
                "libcloud_list_seconds": round(list_seconds, 2),
                "provider_list_seconds": round(sum(calls), 2),
                "pcm_seconds": round(seconds - sum(calls), 2),
                "provider_calls": len(calls),
            }
        )
        print(
            f"  {count} instances: {seconds:.2f} s, of which the provider's list "
            f"{sum(calls):.2f} s (libcloud alone: {list_seconds:.2f} s); "
            f"{len(calls)} provider call(s)",
            flush=True,
        )
    point_at(cloud, site.moto.url)
    cloud.refresh_from_db()
    return rows


def _nodes(driver, count: int) -> list[str]:
    """`count` nodes made at moto, up to 1,000 per call (moto's most); their ids."""
    ids: list[str] = []
    while len(ids) < count:
        batch = min(1000, count - len(ids))
        nodes = driver.create_node(
            name="bulk",
            size=NodeSize("t3.small", "", 0, 0, 0, 0, driver),
            image=NodeImage("ami-760aaa0f", "", driver),
            ex_mincount=batch,
            ex_maxcount=batch,
        )
        ids += [n.id for n in (nodes if isinstance(nodes, list) else [nodes])]
    return ids


def _timed_cycle(cloud) -> tuple[float, list[float]]:
    """The seconds of one reconcile_cloud, and of each provider listing it made."""
    calls: list[float] = []
    real = Provider.list

    def counted(self):
        started_at = time.monotonic()
        try:
            return real(self)
        finally:
            calls.append(time.monotonic() - started_at)

    Provider.list = counted
    try:
        started_at = time.monotonic()
        reconcile_cloud(cloud)
        return time.monotonic() - started_at, calls
    finally:
        Provider.list = real
