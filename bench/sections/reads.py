"""Reads through PCM against bare DRF views of the same rows (bench/urls.py), same server
and token: one instance (`reads`) and pages of the instance list (`lists`). Two rounds,
interleaved so that drift hits both sides alike; the best of each side is kept."""

from __future__ import annotations

from bench.fixtures import Site, clear_instances, make_rows
from bench.load import hammer, wrk
from instances.models import Instance

CLIENTS = 16
LIST_ROWS = 200  # rows behind the list pages, all of the one cloud (the baseline lists all)


def measure(url: str, headers: dict, seconds: int) -> dict:
    return wrk(url, headers, clients=CLIENTS, seconds=seconds) or hammer(
        url, headers, clients=CLIENTS, seconds=seconds
    )


def _against(pcm: str, baseline: str, headers: dict, seconds: int) -> dict:
    rounds = {"pcm": [], "baseline": []}
    for _ in range(2):
        rounds["baseline"].append(measure(baseline, headers, seconds))
        rounds["pcm"].append(measure(pcm, headers, seconds))
    best = {name: max(runs, key=lambda r: r["rps"]) for name, runs in rounds.items()}
    return {**best, "ratio": round(best["pcm"]["rps"] / best["baseline"]["rps"], 3)}


def bench_reads(site: Site, seconds: int) -> dict:
    clear_instances()
    instance = make_rows(site.cloud, 1)[0]
    assert Instance.objects.count() == 1
    pcm = f"{site.instances_url()}/{instance}"
    baseline = f"{site.base}/bench/baseline/instances/{instance}"
    return _against(pcm, baseline, site.headers, seconds)


def bench_lists(site: Site, seconds: int) -> dict:
    clear_instances()
    make_rows(site.cloud, LIST_ROWS)
    result = {}
    for size in (20, 100):
        pcm = f"{site.instances_url()}?page_size={size}"
        baseline = f"{site.base}/bench/baseline/instances?page_size={size}"
        result[f"page_{size}"] = _against(pcm, baseline, site.headers, seconds)
    return result
