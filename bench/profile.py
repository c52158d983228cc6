"""Where the time of PCM's hot paths goes, in one process, under pyinstrument.

`make profile PROFILE_ARGS=reads` (the default): the read of one instance through PCM and
through the baseline (bench/urls.py), each --count times through Django's test client;
prints PCM's profile and the time per request of each.

`make profile PROFILE_ARGS=provision`: --count creates through the API, then their tasks
run in this process (as a qcluster worker would, one at a time) against moto; prints the
profile of the tasks and the time per instance against direct libcloud creates.

The ratios of record come from `make bench`; this says where to look.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["PCM_DATA_DIR"] = tempfile.mkdtemp(prefix="pcm-profile-")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from pyinstrument import Profiler  # noqa: E402


def setup() -> tuple[dict, str, str]:
    from django.contrib.auth import get_user_model

    from bench.fixtures import clear_instances, make_rows
    from clouds.models import Cloud
    from pcm.tokens import create_token

    call_command("migrate", verbosity=0)
    call_command("pcm_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    cloud = Cloud.objects.get(name="AWSLAB-1")
    clear_instances()  # a DATABASE_URL's database may hold an earlier run's rows
    instance = make_rows(cloud, 1)[0]
    admin = get_user_model().objects.get(username="admin")
    headers = {"HTTP_AUTHORIZATION": f"Token {create_token(admin, name='bench')[1]}"}
    return (
        headers,
        f"/pcm_api/v2/clouds/{cloud.name}/instances/{instance}",
        f"/bench/baseline/instances/{instance}",
    )


def per_request(client: Client, url: str, headers: dict, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content
    return (time.perf_counter() - started) / count * 1000


def provision(count: int) -> None:
    import pydoc

    from django_q.brokers import get_broker
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    from bench.fixtures import clear_instances
    from clouds.models import Cloud
    from clouds.services import provider_for
    from instances.models import Instance
    from providers.base import CreateOptions
    from tests import peers

    headers, _, _ = setup()
    with peers.moto_server(Path(tempfile.mkdtemp())) as moto:
        clear_instances()
        cloud = Cloud.objects.get(name="AWSLAB-1")
        cloud.options = {"region": "us-east-1", "endpoint": moto.url, "timeout": 30}
        cloud.quota_instances = cloud.quota_vcpus = cloud.quota_ram_mb = None
        cloud.save()
        provider = provider_for(cloud)
        provider.guard = None
        started = time.perf_counter()
        for n in range(count):
            provider.create(
                f"direct-{n}", "t3.small", "ami-760aaa0f", CreateOptions(pcm_id=f"d{n}")
            )
        direct_ms = (time.perf_counter() - started) / count * 1000
        moto.reset()

        client = Client()
        url = f"/pcm_api/v2/clouds/{cloud.name}/instances"
        started = time.perf_counter()
        for _ in range(count):
            response = client.post(url, {"size": "small"}, "application/json", **headers)
            assert response.status_code == 202, response.content
        api_ms = (time.perf_counter() - started) / count * 1000

        broker = get_broker()
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            while Instance.objects.exclude(status="running").exists():
                OrmQ.objects.update(lock=timezone.now())  # follow-ups: due now
                for task_id, payload in broker.dequeue() or []:
                    task = SignedPackage.loads(payload)
                    broker.acknowledge(task_id)
                    pydoc.locate(task["func"])(*task["args"], **task["kwargs"])
        worker_ms = (time.perf_counter() - started) / count * 1000
    print(profiler.output_text(show_all=False, color=False, time="percent_of_total"))
    print(
        f"direct create {direct_ms:.1f} ms/instance; PCM: API {api_ms:.1f} ms + worker "
        f"{worker_ms:.1f} ms per instance; direct / PCM {direct_ms / (api_ms + worker_ms):.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["reads", "provision"], default="reads")
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    if args.what == "provision":
        provision(min(args.count, 200))
        return 0
    headers, pcm, baseline = setup()
    client = Client()
    per_request(client, pcm, headers, 100)  # warm up
    per_request(client, baseline, headers, 100)
    profiler = Profiler(interval=0.0005)
    with profiler:
        per_request(client, pcm, headers, args.count)
    print(profiler.output_text(show_all=False, color=False, time="percent_of_total"))
    # Interleaved, the best of three each: drift on a shared machine hits both alike.
    times = {"baseline": [], "pcm": []}
    for _ in range(3):
        times["baseline"].append(per_request(client, baseline, headers, args.count))
        times["pcm"].append(per_request(client, pcm, headers, args.count))
    base_ms, pcm_ms = min(times["baseline"]), min(times["pcm"])
    print(
        f"baseline {base_ms:.3f} ms/request, PCM {pcm_ms:.3f} ms/request, "
        f"PCM's rate / baseline's {base_ms / pcm_ms:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
