"""Create acceptance under a steady arrival rate (open loop): POSTs sent on a schedule of
R per second for D seconds, whatever the answers so far (bench.load.at_rate), while a
cluster of 8 workers provisions against moto behind the latency proxy (0.5 s per call).
Per rate: sent, 202s, errors, p50/p99/max of the time from the scheduled send to the 202,
and the achieved rate. Then the highest rate of STEPS the machine holds, in shorter runs,
stepping up until one does not hold (p99 of HOLD_P99_MS or more, or an error).

Each rate starts from the same state: no instance, an empty queue, a fresh moto, an idle
cluster, then one uncounted second at the rate. The cluster is stopped before the tables
are emptied (its workers would go on writing to rows being deleted: foreign key errors,
deadlocks) and a new one started; gunicorn and the proxy keep running."""

from __future__ import annotations

from bench.fixtures import Site, clear_instances, slow_cloud
from bench.load import at_rate
from bench.servers import cluster, stop

PROVIDER_DELAY = 0.5
WORKERS = 8
HOLD_P99_MS = 50
STEPS = (10, 20, 30, 40, 50, 70, 100, 150, 200, 300)
STEP_SECONDS = 8


def bench_open_loop(site: Site, rates: list[float], seconds: float) -> dict:
    with slow_cloud(site, PROVIDER_DELAY):
        runs = [_run(site, rate, seconds) for rate in rates]
        held, steps = _highest_held(site)
    return {
        "provider_delay_s": PROVIDER_DELAY,
        "seconds": seconds,
        "runs": runs,
        "held_rate_per_s": held,
        "hold_p99_ms": HOLD_P99_MS,
        "steps": steps,
    }


def _run(site: Site, rate: float, seconds: float) -> dict:
    clear_instances()
    site.moto.reset()
    workers = cluster(WORKERS)
    try:
        # One second at the rate first, not counted: the web workers' first requests on
        # new database connections (and the statements they prepare) are not the steady
        # state this measures; the cluster is busy with them meanwhile.
        at_rate(site.instances_url(), site.headers, rate=rate, seconds=1, body={"size": "small"})
        result = at_rate(
            site.instances_url(), site.headers, rate=rate, seconds=seconds, body={"size": "small"}
        )
    finally:
        stop(workers)
    print(
        f"  {rate:g}/s for {seconds:g} s: {result['accepted']} 202s of {result['sent']}, "
        f"{result['errors']} errors, p50/p99/max {result['p50_ms']}/{result['p99_ms']}/"
        f"{result['max_ms']} ms, achieved {result['achieved_per_s']}/s",
        flush=True,
    )
    return result


def _highest_held(site: Site) -> tuple[float | None, list[dict]]:
    """The last rate of STEPS that held, or None if the first did not; and every step."""
    held, steps = None, []
    for rate in STEPS:
        steps.append(_run(site, rate, STEP_SECONDS))
        if steps[-1]["errors"] or steps[-1]["p99_ms"] >= HOLD_P99_MS:
            break
        held = rate
    return held, steps
