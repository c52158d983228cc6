"""`make bench`: PCM's overhead and throughput as ratios against baselines measured in the
same run, on this machine. Starts what it needs on loopback (moto, a latency proxy,
gunicorn, django-q2 clusters), prints a table, writes bench/results/<time>.json and the
throughput plot, and stops everything it started.

SQLite in a temporary directory unless DATABASE_URL is set (then that PostgreSQL database
is used and emptied: give it a database of its own).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
if not os.environ.get("DATABASE_URL"):
    os.environ["PCM_DATA_DIR"] = tempfile.mkdtemp(prefix="pcm-bench-")

import django  # noqa: E402

django.setup()
# The bench's own console shows the table, not a line per provider call of the direct side.
logging.getLogger("providers.calls").setLevel(logging.WARNING)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.load import hammer, wrk  # noqa: E402
from tests import fault_proxy, peers  # noqa: E402

BIN = Path(sys.executable).parent
started: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], log: str, **env: str) -> subprocess.Popen:
    out = (Path(tempfile.gettempdir()) / f"pcm-bench-{log}.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out)
    started.append(process)
    return process


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    if process in started:
        started.remove(process)


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def setup(moto_url: str) -> tuple[str, object]:
    """The demo configuration with AWSLAB-1 at our moto, without quotas; bob's token."""
    from django.contrib.auth import get_user_model

    from clouds.models import Cloud
    from pcm.tokens import create_token

    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("pcm_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    Cloud.objects.filter(name="AWSLAB-1").update(
        options={"region": "us-east-1", "endpoint": moto_url, "timeout": 30},
        quota_instances=None,
        quota_vcpus=None,
        quota_ram_mb=None,
    )
    admin = get_user_model().objects.get(username="admin")
    return create_token(admin, name="bench")[1], Cloud.objects.get(name="AWSLAB-1")


def clear_instances() -> None:
    from django_q.models import OrmQ, Task

    from instances.models import Instance, InstanceEvent
    from providers.inventory.models import NameSequence, SystemRecord

    for model in (InstanceEvent, Instance, SystemRecord, NameSequence, OrmQ, Task):
        model.objects.all().delete()


def measure(url: str, headers: dict, clients: int, seconds: int) -> dict:
    return wrk(url, headers, clients=clients, seconds=seconds) or hammer(
        url, headers, clients=clients, seconds=seconds
    )


def bench_reads(base: str, headers: dict, cloud, seconds: int) -> dict:
    from instances.models import Instance

    clear_instances()
    instance = make_rows(cloud, 1)[0]
    pcm = f"{base}/pcm_api/v2/clouds/{cloud.name}/instances/{instance}"
    baseline = f"{base}/bench/baseline/instances/{instance}"
    assert Instance.objects.count() == 1
    rounds = {"pcm": [], "baseline": []}
    for _ in range(2):  # interleaved, so that drift hits both alike
        rounds["baseline"].append(measure(baseline, headers, 16, seconds))
        rounds["pcm"].append(measure(pcm, headers, 16, seconds))
    best = {name: max(runs, key=lambda r: r["rps"]) for name, runs in rounds.items()}
    return {**best, "ratio": round(best["pcm"]["rps"] / best["baseline"]["rps"], 3)}


def bench_lists(base: str, headers: dict, cloud, seconds: int) -> dict:
    clear_instances()
    make_rows(cloud, 200)
    result = {}
    for size in (20, 100):
        url = f"{base}/pcm_api/v2/clouds/{cloud.name}/instances?page_size={size}"
        result[f"page_{size}"] = measure(url, headers, 16, seconds)
    return result


def make_rows(cloud, count: int, provider_ids: list[str] | None = None) -> list[str]:
    """Instance rows straight into the database (for reads, lists and reconciliation)."""
    import uuid

    from clouds.models import AbstractImage, AbstractSize, Environment
    from instances.models import Instance

    size, image = AbstractSize.objects.get(name="small"), AbstractImage.objects.get(name="centos-9")
    env = Environment.objects.get(name="dev")
    rows = [
        Instance(
            id=uuid.uuid4(),
            cloud=cloud,
            name=f"bench-{n:05}",
            environment=env,
            size=size,
            image=image,
            provider_size_id="t3.small",
            provider_image_id="ami-760aaa0f",
            provider_id=provider_ids[n] if provider_ids else f"i-bench{n:012x}",
            status="running",
            raw_status="running",
            inventory_synced=True,
        )
        for n in range(count)
    ]
    Instance.objects.bulk_create(rows, batch_size=1000)
    return [str(row.id) for row in rows]


def cluster(workers: int, **env: str) -> subprocess.Popen:
    process = start(
        [str(BIN / "python"), "manage.py", "qcluster"],
        f"qcluster-{workers}",
        PCM_Q_WORKERS=str(workers),
        PCM_WATCH_SECONDS="1",
        **env,
    )
    time.sleep(2)
    return process


def wait_all_running(count: int, seconds: float = 600) -> float:
    from instances.models import Instance

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if Instance.objects.filter(status="running").count() >= count:
            return time.monotonic()
        if Instance.objects.filter(status="error").exists():
            raise RuntimeError(Instance.objects.filter(status="error").first().last_error)
        time.sleep(0.05)
    raise RuntimeError("not all instances reached running")


def bench_accept(base: str, headers: dict, cloud, moto, count: int, delay: float) -> dict:
    """Time to the 202, while every provider call takes `delay` seconds longer."""
    clear_instances()
    faults = fault_proxy.Faults()
    faults.delay = delay
    with fault_proxy.proxy(moto.url, faults) as slow:
        _endpoint(cloud, slow)
        workers = cluster(8)
        try:
            result = hammer(
                f"{base}/pcm_api/v2/clouds/{cloud.name}/instances",
                headers,
                clients=16,
                seconds=120,
                method="POST",
                body={"size": "small"},
                limit=count,
            )
        finally:
            stop(workers)
    _endpoint(cloud, moto.url)
    return {**result, "provider_delay_s": faults.delay}


def bench_throughput(
    base: str, headers: dict, cloud, moto, count: int, workers: list[int], delay: float = 0.0
):
    """PCM from the POST to `running` against direct creates, at moto; with `delay`, every
    provider call of both sides goes through a proxy that adds that many seconds, as a
    cloud's API latency would."""
    if not delay:
        return _throughput(base, headers, cloud, moto, count, workers)
    faults = fault_proxy.Faults()
    faults.delay = delay
    with fault_proxy.proxy(moto.url, faults) as slow:
        _endpoint(cloud, slow)
        try:
            return _throughput(base, headers, cloud, moto, count, workers)
        finally:
            _endpoint(cloud, moto.url)


def _endpoint(cloud, url: str) -> None:
    from clouds.models import Cloud

    Cloud.objects.filter(pk=cloud.pk).update(
        options={"region": "us-east-1", "endpoint": url, "timeout": 30}
    )


def _throughput(base: str, headers: dict, cloud, moto, count: int, workers: list[int]):
    from clouds.models import Cloud
    from clouds.services import provider_for
    from providers.base import CreateOptions

    rows = []
    for w in workers:
        moto.reset()
        clear_instances()
        started_at = time.monotonic()
        provider = provider_for(Cloud.objects.get(pk=cloud.pk))
        provider.guard = None  # libcloud alone: no breaker bookkeeping

        def direct_create(n: int, provider=provider) -> None:
            provider.create(
                f"direct-{n}", "t3.small", "ami-760aaa0f", CreateOptions(pcm_id=f"d-{n}")
            )

        with ThreadPoolExecutor(max_workers=w) as pool:
            list(pool.map(direct_create, range(count)))
        direct = count / (time.monotonic() - started_at)

        moto.reset()
        process = cluster(w)
        try:
            started_at = time.monotonic()
            result = hammer(
                f"{base}/pcm_api/v2/clouds/{cloud.name}/instances",
                headers,
                clients=8,
                seconds=600,
                method="POST",
                body={"size": "small"},
                limit=count,
            )
            assert result["errors"] == 0, result
            pcm = count / (wait_all_running(count) - started_at)
        finally:
            stop(process)
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


def bench_reconcile(cloud, moto, sizes: list[int]) -> list[dict]:
    from clouds.models import Cloud
    from clouds.services import provider_for

    # moto answers a list of 10,000 instances slowly; give it time.
    Cloud.objects.filter(pk=cloud.pk).update(
        options={"region": "us-east-1", "endpoint": moto.url, "timeout": 600}
    )
    cloud.refresh_from_db()
    from instances.worker import reconcile_cloud
    from providers.base import Provider

    rows = []
    for count in sizes:
        moto.reset()
        clear_instances()
        driver = provider_for(cloud).driver
        ids: list[str] = []
        while len(ids) < count:  # moto makes up to 1,000 instances per call
            batch = min(1000, count - len(ids))
            from libcloud.compute.base import NodeImage, NodeSize

            nodes = driver.create_node(
                name="bulk",
                size=NodeSize("t3.small", "", 0, 0, 0, 0, driver),
                image=NodeImage("ami-760aaa0f", "", driver),
                ex_mincount=batch,
                ex_maxcount=batch,
            )
            ids += [n.id for n in (nodes if isinstance(nodes, list) else [nodes])]
        make_rows(cloud, count, provider_ids=ids)
        # The baseline: the same provider listing, through libcloud alone.
        started_at = time.monotonic()
        listed = len(driver.list_nodes())
        list_seconds = time.monotonic() - started_at
        assert listed >= count
        calls: list[float] = []
        real = Provider.list

        def counted(self, calls=calls, real=real):
            started_at = time.monotonic()
            try:
                return real(self)
            finally:
                calls.append(time.monotonic() - started_at)

        Provider.list = counted
        try:
            started_at = time.monotonic()
            reconcile_cloud(cloud)
            seconds = time.monotonic() - started_at
        finally:
            Provider.list = real
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
    return rows


def plot(rows: list[dict], slow: list[dict], delay: float, path: Path) -> None:
    """Instances/s against W: PCM and direct creates at moto, and with the added latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure(figsize=(7, 4.5))
    for series, style, where in ((rows, "-", "moto"), (slow, "--", f"moto + {delay} s")):
        if not series:
            continue
        workers = [r["workers"] for r in series]
        direct = [r["direct_per_s"] for r in series]
        plt.plot(workers, direct, "o" + style, label=f"libcloud create_node, W threads ({where})")
        pcm = [r["pcm_per_s"] for r in series]
        plt.plot(workers, pcm, "s" + style, label=f"PCM API to running, W workers ({where})")
    workers = [r["workers"] for r in rows]
    plt.xlabel("W (threads / django-q2 workers)")
    plt.ylabel("instances per second")
    plt.xscale("log", base=2)
    plt.xticks(workers, [str(w) for w in workers])
    plt.grid(True, alpha=0.3)
    plt.legend(fontsize=8)
    plt.title("Provisioning throughput (2 cores shared by everything)")
    plt.tight_layout()
    plt.savefig(path, dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="per HTTP measurement")
    parser.add_argument("--instances", type=int, default=200, help="per throughput run")
    parser.add_argument("--workers", default="1,4,8,16")
    parser.add_argument("--reconcile", default="1000,10000")
    parser.add_argument(
        "--provider-delay",
        type=float,
        default=0.5,
        help="seconds added to every provider call in throughput_slow (a cloud's API latency)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated sections, e.g. reads,lists (default: all)"
    )
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    results: dict = {"database": connection.vendor, "machine": {"cores": os.cpu_count()}}
    with peers.moto_server(Path(tempfile.mkdtemp())) as moto:
        token, cloud = setup(moto.url)
        headers = {"Authorization": f"Token {token}"}
        port = free_port()
        start([str(BIN / "gunicorn"), "pcm.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"], "gunicorn")
        base = f"http://127.0.0.1:{port}"
        sections = {
            "reads": lambda: bench_reads(base, headers, cloud, args.seconds),
            "lists": lambda: bench_lists(base, headers, cloud, args.seconds),
            "accept": lambda: bench_accept(base, headers, cloud, moto, args.instances, 0.0),
            "accept_slow": lambda: bench_accept(base, headers, cloud, moto, args.instances, 1.0),
            "throughput": lambda: bench_throughput(
                base, headers, cloud, moto, args.instances, workers
            ),
            "throughput_slow": lambda: bench_throughput(
                base, headers, cloud, moto, args.instances, workers, args.provider_delay
            ),
            "reconcile": lambda: bench_reconcile(
                cloud, moto, [int(n) for n in args.reconcile.split(",")]
            ),
        }
        if args.only:
            sections = {k: v for k, v in sections.items() if k in args.only.split(",")}
        try:
            wait_port(port)
            for name, run in sections.items():
                print(f"{name} ...", flush=True)
                try:
                    results[name] = run()
                except Exception as exc:  # one failed measure must not lose the others
                    results[name] = {"failed": repr(exc)}
                    print(f"  failed: {exc!r}", flush=True)
        finally:
            for process in list(started):
                stop(process)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    if isinstance(results.get("throughput"), list):
        slow = results.get("throughput_slow")
        plot(
            results["throughput"],
            slow if isinstance(slow, list) else [],
            args.provider_delay,
            ROOT / "docs" / "bench-throughput.png",
        )
    if args.only:
        print(json.dumps({k: results[k] for k in sections}, indent=2))
    else:
        print_table(results)
    print(f"\nresults: bench/results/{stamp}.json; plot: docs/bench-throughput.png")
    return 0


def print_table(r: dict) -> None:
    failed = [name for name, value in r.items() if isinstance(value, dict) and "failed" in value]
    if failed:
        print(f"FAILED: {', '.join(failed)} (see the JSON)")
        return
    reads, lists, fast, slow = r["reads"], r["lists"], r["accept"], r["accept_slow"]
    lines = [
        "| measure | PCM | baseline | ratio | goal |",
        "|---|---|---|---|---|",
        f"| GET one instance, req/s (p50/p99 ms) | {reads['pcm']['rps']} ({reads['pcm']['p50_ms']}/"
        f"{reads['pcm']['p99_ms']}) | {reads['baseline']['rps']} ({reads['baseline']['p50_ms']}/"
        f"{reads['baseline']['p99_ms']}) | {reads['ratio']} | >= 0.8 |",
        f"| POST to 202, 16 clients, p50/p99 ms, provider +1 s vs +0 s | "
        f"{slow['p50_ms']}/{slow['p99_ms']} | {fast['p50_ms']}/{fast['p99_ms']} | "
        f"{round(slow['p99_ms'] / fast['p99_ms'], 2)} | p99 < 50, independent of the provider |",
    ]
    for key, label in (("throughput", "moto"), ("throughput_slow", "moto + delay")):
        for row in r.get(key, []):
            lines.append(
                f"| provisioning at {label}, W={row['workers']}, instances/s | "
                f"{row['pcm_per_s']} | {row['direct_per_s']} | {row['ratio']} | >= 0.9 |"
            )
    for row in r["reconcile"]:
        lines.append(
            f"| reconcile {row['instances']} instances, s (provider calls) | {row['seconds']} "
            f"({row['provider_calls']}) | its provider list {row['provider_list_seconds']} "
            f"(libcloud alone {row['libcloud_list_seconds']}) | "
            f"PCM's part {row['pcm_seconds']} s | 10,000 < 3 s, 1 call |"
        )
    for size in (20, 100):
        page = lists[f"page_{size}"]
        lines.append(f"| list, page of {size}, req/s | {page['rps']} | | | |")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
