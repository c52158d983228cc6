"""Scale-out: provisioning throughput (as throughput_slow: POST to `running`, every
provider call 0.5 s longer) with 16 workers in all, on one web server (gunicorn -w 2)
and one qcluster of 16 workers, against two web servers (-w 2 each, on two ports; the
8 posting clients alternate between them) and two qclusters of 8 workers each, all on
the one database. The ratio is two over one: what the database and the queue let a
second node add (on this machine both share the same two cores, so it shows contention,
not extra capacity)."""

from __future__ import annotations

from bench.fixtures import Site, slow_cloud
from bench.sections.provisioning import pcm_rate
from bench.servers import gunicorn, stop

PROVIDER_DELAY = 0.5


def bench_scaleout(site: Site, count: int) -> dict:
    with slow_cloud(site, PROVIDER_DELAY):
        site.moto.reset()
        one = pcm_rate(site, [site.base], count, [16])
        print(f"  one web server, one cluster of 16: {one:.1f}/s", flush=True)
        second, second_base = gunicorn(2)
        try:
            site.moto.reset()
            two = pcm_rate(site, [site.base, second_base], count, [8, 8])
        finally:
            stop(second)
        print(f"  two web servers, two clusters of 8: {two:.1f}/s", flush=True)
    return {
        "instances": count,
        "provider_delay_s": PROVIDER_DELAY,
        "one_per_s": round(one, 1),
        "two_per_s": round(two, 1),
        "ratio": round(two / one, 3),
    }
