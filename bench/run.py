"""`make bench`: PCM's overhead and throughput as ratios against baselines measured in the
same run, on this machine. Starts what it needs on loopback (moto, a latency proxy,
gunicorn, django-q2 clusters), prints a table, writes bench/results/<time>.json (and, when
`throughput` ran, the throughput plot docs/bench-throughput.png), and stops everything it
started.

SQLite in a temporary directory unless DATABASE_URL is set (then that PostgreSQL database
is used and emptied: give it a database of its own). The JSON and the table say which.

Sections (--only a,b runs some; bench/sections/ has one module per kind):
  reads, lists       GET one instance, list pages of 20 and 100: PCM against bare DRF
  accept(_slow)      POST to 202, 16 closed-loop clients, provider +0 s / +1 s
  open_loop          POST to 202 at --rates creates/s (open loop), provider +0.5 s; and
                     the highest rate held with p99 < 50 ms
  throughput         --instances to running against direct creates, at moto, --workers
  throughput_slow    the same with --provider-delay on every call, --slow-workers, and
                     --slow-instances: at 64 workers a run of 200 takes a few seconds, of
                     which the last instances' final look at the cloud (a watch period
                     plus a slow call) is a fixed tail; 400 instances dilute it. W of 1-8
                     are left out by default: at 0.5 s a call they take minutes, and their
                     rate is the latency's (W / the calls' seconds), not PCM's
  lifecycle          CPU seconds per instance created and deleted (--instances), web,
                     worker and moto's
  scaleout           one web server + one cluster of 16 against two + two of 8
  broker             --tasks no-op tasks/s through the ORM broker, 1 and 2 clusters of 8
  reconcile          one reconciliation cycle of --reconcile instances
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
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

from django.db import connection  # noqa: E402

from bench import servers  # noqa: E402
from bench.fixtures import Site, setup  # noqa: E402
from bench.plot import plot  # noqa: E402
from bench.sections.broker import bench_broker  # noqa: E402
from bench.sections.lifecycle import bench_lifecycle  # noqa: E402
from bench.sections.open_loop import bench_open_loop  # noqa: E402
from bench.sections.provisioning import bench_accept, bench_throughput  # noqa: E402
from bench.sections.reads import bench_lists, bench_reads  # noqa: E402
from bench.sections.reconcile import bench_reconcile  # noqa: E402
from bench.sections.scaleout import bench_scaleout  # noqa: E402
from bench.table import print_table  # noqa: E402
from tests import peers  # noqa: E402


def numbers(text: str, kind=int) -> list:
    return [kind(n) for n in text.split(",")]


SECTIONS = {
    "reads": lambda site, a: bench_reads(site, a.seconds),
    "lists": lambda site, a: bench_lists(site, a.seconds),
    "accept": lambda site, a: bench_accept(site, a.instances, 0.0),
    "accept_slow": lambda site, a: bench_accept(site, a.instances, 1.0),
    "open_loop": lambda site, a: bench_open_loop(site, numbers(a.rates, float), a.open_seconds),
    "throughput": lambda site, a: bench_throughput(site, a.instances, numbers(a.workers)),
    "throughput_slow": lambda site, a: bench_throughput(
        site, a.slow_instances, numbers(a.slow_workers), a.provider_delay
    ),
    "lifecycle": lambda site, a: bench_lifecycle(site, a.instances),
    "scaleout": lambda site, a: bench_scaleout(site, a.instances),
    "broker": lambda site, a: bench_broker(a.tasks),
    "reconcile": lambda site, a: bench_reconcile(site, numbers(a.reconcile)),
}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5, help="per HTTP measurement")
    parser.add_argument(
        "--instances", type=int, default=200, help="per accept, throughput, lifecycle, scaleout"
    )
    parser.add_argument("--workers", default="1,4,8,16", help="W of throughput")
    parser.add_argument("--slow-workers", default="16,64", help="W of throughput_slow")
    parser.add_argument("--slow-instances", type=int, default=400, help="per throughput_slow")
    parser.add_argument(
        "--provider-delay",
        type=float,
        default=0.5,
        help="seconds added to every provider call in throughput_slow (a cloud's API latency)",
    )
    parser.add_argument("--rates", default="10,20,50", help="open_loop's creates/s")
    parser.add_argument("--open-seconds", type=float, default=15, help="per open_loop rate")
    parser.add_argument("--tasks", type=int, default=2000, help="no-op tasks per broker run")
    parser.add_argument("--reconcile", default="1000,10000")
    parser.add_argument(
        "--only", default="", help="comma-separated sections, e.g. reads,lists (default: all)"
    )
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(SECTIONS) - {""}
    if unknown:
        parser.error(f"unknown sections {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    return args


def run(sections: dict, args: argparse.Namespace, results: dict) -> None:
    """Each section in turn; one that fails is recorded as {"failed": ...}, the others run."""
    with peers.moto_server(Path(tempfile.mkdtemp())) as moto:
        token, cloud = setup(moto.url)
        try:
            web, base = servers.gunicorn(2)
            site = Site(base, web, {"Authorization": f"Token {token}"}, cloud, moto)
            for name, section in sections.items():
                print(f"{name} ...", flush=True)
                try:
                    results[name] = section(site, args)
                except Exception as exc:  # one failed measure must not lose the others
                    results[name] = {"failed": repr(exc)}
                    print(f"  failed: {exc!r}", flush=True)
        finally:
            servers.stop_all()


def main() -> int:
    args = arguments()
    sections = SECTIONS
    if args.only:
        sections = {k: v for k, v in SECTIONS.items() if k in args.only.split(",")}
    results: dict = {"database": connection.vendor, "machine": {"cores": os.cpu_count()}}
    print(f"database: {results['database']}", flush=True)
    run(sections, args, results)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    if args.only:
        print(json.dumps({k: results[k] for k in ("database", *sections)}, indent=2))
    print_table(results)
    print(f"\nresults: bench/results/{stamp}.json")
    if isinstance(results.get("throughput"), list):
        slow = results.get("throughput_slow")
        plot(
            results["throughput"],
            slow if isinstance(slow, list) else [],
            args.provider_delay,
            ROOT / "docs" / "bench-throughput.png",
        )
        print("plot: docs/bench-throughput.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
