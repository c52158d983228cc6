"""The soak: the record is the truth, after hundreds of lives lived through chaos.

136 instance lifecycles through the real HTTP API of a live server (120 on AWSLAB-1 at
moto, 16 on SNV-LAB-1 at a real OpenStack, tests/openstack_lab.py: create, reboot, stop,
start, console, delete), by 22 client threads, each with a token of its own.
Both clouds sit behind the chaos proxy (tests/fault_proxy/) in random mode: every create is
hidden for a few seconds (eventual consistency), some create answers come after the
cloud's timeout, connections are reset after the call ran, 5xx bursts, throttling, small
pages (EC2's cut by the proxy; Nova's its own, of 3). Nova's 409s and slow answers are its
own. Two qcluster processes do the work on PostgreSQL; at random moments one of them is
SIGKILLed, whole, and started again. Reconciliation runs every few seconds meanwhile.

Every second the live rows per cloud are sampled against its instance quota, with the live
nodes at the peer. At the end, once nothing is in flight and reconciliation has run twice
more a cycle apart, the record is checked against the peers' own listings (straight at
moto and Nova, not through the proxy): every tagged node accounted for, no duplicate, no
live row without its node, no deleted row whose node lives, nothing left transitional, no
quota exceeded. The summary is printed and written to artifacts/soak.json.

Runs only on PostgreSQL (two processes share its queue): skipped elsewhere, unless
PCM_REQUIRE_SOAK is set, where it fails instead. PCM_SOAK_SEED changes the dice.
"""

from __future__ import annotations

import logging
import os
import shutil
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group

from providers import registry
from tests.factories import UserFactory, api_key
from tests.fault_proxy import Faults, proxy
from tests.instances.test_qcluster import wait_for
from tests.soak import report
from tests.soak.clients import Fleet
from tests.soak.clusters import Cluster, Killer
from tests.soak.invariants import INVARIANTS, check
from tests.soak.observe import Peer, Reconciler, Sampler, settle, unsettled

ON_POSTGRES = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]
REQUIRED = bool(os.environ.get("PCM_REQUIRE_SOAK"))
if not ON_POSTGRES and not REQUIRED:
    pytest.skip(
        "the soak needs PostgreSQL: set DATABASE_URL=postgres://... (with PCM_REQUIRE_SOAK=1 "
        "this is a failure instead)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.django_db(transaction=True)

SEED = int(os.environ.get("PCM_SOAK_SEED") or 20261130)
SCALE = float(os.environ.get("PCM_SOAK_SCALE") or 1)  # below 1: a shorter soak, to try things
# cloud -> (lifecycles, client threads, instance quota, actions between create and delete)
PLAN = {
    "AWSLAB-1": (round(120 * SCALE), 14, 12, ["reboot", "stop", "start"]),
    # A life at a real Nova takes 90 to 120 s on this machine while the soak runs (30 s
    # alone): two lives per client in the time.
    "SNV-LAB-1": (round(16 * SCALE), 8, 8, ["reboot", "stop", "start"]),
}
# What PCM may answer to a running instance's console_log: the text, or 503 when the chaos
# failed the call.
CONSOLE = {"AWSLAB-1": {200, 503}, "SNV-LAB-1": {200, 503}}
# The clouds' `timeout` option: a provider call is abandoned after it. A real Nova's create
# takes up to a second or two here when the machine is busy (moto: milliseconds).
TIMEOUTS = {"AWSLAB-1": 2, "SNV-LAB-1": 6}
CHAOS = {
    "consistency_delay": 3.0,  # every new node hidden this long
    "reset_calls": "any",
}
LATE_BY = 2.0  # a late create answer comes this long after the client gave up
RATES = {"consistency": 1.0, "late_create": 0.1, "reset": 0.04, "errors": 0.04, "throttle": 0.04}
# EC2 takes MaxResults of 5 and more; the real Nova pages by 3 itself (its max_limit).
PAGES = {"AWSLAB-1": 5, "SNV-LAB-1": None}
ERRORS = {"AWSLAB-1": 500, "SNV-LAB-1": 503}
# For the qcluster processes (environment) and this process (settings): short django-q2
# times so that a killed task comes back soon, PCM's times suited to the chaos above.
ENV = {
    "PCM_Q_WORKERS": "4",
    "PCM_TASK_TIMEOUT": "20",
    "PCM_TASK_RETRY": "25",
    "PCM_LEASE_SECONDS": "20",
    "PCM_WATCH_SECONDS": "1",
    # Above the consistency delay, and above the time a busy real Nova may still take to
    # make a server after the client's create timed out (its API goes on with the request).
    "PCM_VISIBILITY_GRACE": "30",
    "PCM_ABSENCE_GAP": "5",
    "PCM_PENDING_DEADLINE": "10",
    "PCM_MAX_ATTEMPTS": "3",
    "PCM_BUILD_TIMEOUT": "120",
    "PCM_BREAKER_COOLDOWN": "5",
}
RECONCILE_EVERY = 5.0
CLIENT_SECONDS = 390  # the clients start no life after this (a started one may end later)
SETTLE_SECONDS = 60
LOGS = report.ARTIFACTS / "soak-logs"


@pytest.fixture
def postgres():
    if not ON_POSTGRES:
        pytest.fail(
            "PCM_REQUIRE_SOAK is set but the database is "
            f"{django_settings.DATABASES['default']['ENGINE']}: set DATABASE_URL=postgres://..."
        )


@pytest.fixture
def soak_settings(settings):
    """The same PCM settings in this process (live server, reconciliation) as in the
    clusters' environment; no API throttle in the way of 20 polling clients."""
    for name, value in ENV.items():
        if hasattr(settings, name):
            setattr(settings, name, int(value))
    settings.PCM_THROTTLE_USER = "100000/min"
    return ENV


@pytest.fixture
def quiet():
    """This process logs every API request and provider call at INFO: keep WARNING."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    yield
    root.setLevel(level)


@pytest.fixture
def peers(aws, snv_openstack, moto, openstack):
    """Both clouds behind a chaos proxy each (no fault on yet), with their quotas; the
    providers straight at moto and Nova (no proxy, no breaker) are the truth. Nova sits
    behind its proxy by the plugin's `base_url`; Keystone is asked directly."""
    faults = {"AWSLAB-1": Faults(), "SNV-LAB-1": Faults()}
    with (
        proxy(moto.url, faults["AWSLAB-1"]) as ec2_url,
        proxy(openstack.compute.removesuffix("/v2.1"), faults["SNV-LAB-1"]) as nova_url,
    ):
        found = []
        for cloud, via in (
            (aws, {"endpoint": ec2_url}),
            (snv_openstack, {"base_url": f"{nova_url}/v2.1"}),
        ):
            lives, _, quota, actions = PLAN[cloud.name]
            assert {*actions, "console_log"} <= set(cloud.capabilities), cloud.capabilities
            direct = registry.get(cloud.provider)(
                {**cloud.options, "timeout": 10}, cloud.credentials
            )
            cloud.options = {**cloud.options, **via, "timeout": TIMEOUTS[cloud.name]}
            cloud.quota_instances = quota
            cloud.save()
            chaos = faults[cloud.name]
            for name, value in CHAOS.items():
                setattr(chaos, name, value)
            chaos.late_by = TIMEOUTS[cloud.name] + LATE_BY
            chaos.page_size = PAGES[cloud.name]
            chaos.error_status = ERRORS[cloud.name]
            found.append(Peer(cloud.name, cloud.pk, quota, direct, chaos, lives))
        yield found


@pytest.fixture
def clusters(postgres, peers, soak_settings):
    if LOGS.exists():
        shutil.rmtree(LOGS)
    LOGS.mkdir(parents=True)
    # django-q2 at INFO: "running." once up, and the task each worker processes.
    env = {**ENV, "PCM_LOG_FORMAT": "plain", "PCM_QUEUE_LOG_LEVEL": "INFO"}
    both = [Cluster(name, LOGS / f"{name}.log", env) for name in ("qcluster-a", "qcluster-b")]
    try:
        for cluster in both:
            cluster.start()
        assert wait_for(lambda: all(c.started() for c in both), 60), [
            c.log.read_text()[-2000:] for c in both
        ]
        yield both
    finally:
        for cluster in both:
            cluster.stop()


def tokens(bob, count: int) -> list[str]:
    """One API user per client (PCM throttles per user), operators like bob."""
    operators = Group.objects.get(name="operators")
    keys = []
    for index in range(count):
        user = UserFactory(username=f"soak-{index:02}")
        user.groups.add(operators)
        keys.append(api_key(user))
    return keys


def test_the_record_is_the_truth_after_a_soak(
    clusters, peers, soak_settings, bob, live_server, quiet
):
    started = time.monotonic()
    print(f"\nsoak: seed {SEED} (PCM_SOAK_SEED); logs in {LOGS}", flush=True)
    keys = tokens(bob, sum(plan[1] for plan in PLAN.values()))
    fleet = Fleet(live_server.url, SEED)
    deadline = time.monotonic() + CLIENT_SECONDS
    for name, (lives, clients, _, actions) in PLAN.items():
        fleet.plan(name, lives, [keys.pop() for _ in range(clients)], actions, deadline)
    sampler = Sampler(peers)
    reconciler = Reconciler(peers, RECONCILE_EVERY)
    killer = Killer(clusters, SEED)
    for index, peer in enumerate(peers):
        peer.faults.randomly(RATES, seed=SEED + index)
    threads = (sampler, reconciler, killer)
    try:
        for thread in threads:
            thread.start()
        fleet.run()
        killer.stop()
        print(f"soak: clients done after {time.monotonic() - started:.0f} s; settling", flush=True)
        settled, settling = settle(
            reconciler, peers, float(ENV["PCM_ABSENCE_GAP"]) + 1, SETTLE_SECONDS
        )
    finally:
        for thread in reversed(threads):
            thread.stop()
    for cluster in clusters:  # nothing changes while the record is compared with the clouds
        cluster.stop()
    findings = check(peers, sampler)
    stale = [life for life in fleet.lives if life.stale]
    findings.violations["f_no_stale_status"] = [
        f"{life.cloud} {life.id}: {'; '.join(life.stale)}" for life in stale
    ]
    findings.describe_too([life.id for life in stale])
    cut_short = [life.id for life in fleet.lives if any("ended deleted" in s for s in life.steps)]
    findings.describe_too(cut_short)  # PCM called them deleted before their client did
    data = report.summary(
        seed=SEED,
        wall=time.monotonic() - started,
        settle_seconds=settling,
        settled=settled,
        peers=peers,
        lives=fleet.lives,
        kills=killer.kills,
        sampler=sampler,
        reconciler=reconciler,
        findings=findings,
        settings=ENV,
        client_errors=fleet.errors,
        server_errors=fleet.server_errors,
    )
    print(report.table(data), flush=True)
    print(f"soak: summary in {report.write(data, findings)}", flush=True)

    # Every problem at once (not the first only): a failing soak tells all it saw.
    problems = [f"the killer failed: {killer.error!r}"] if killer.error else []
    problems += [f"a client failed: {error}" for error in fleet.errors[:5]]
    problems += [f"PCM answered 500: {error}" for error in fleet.server_errors[:5]]
    if not data["kills"]:
        problems.append("no qcluster was killed")
    for peer in peers:
        done = data["clouds"][peer.name]["lifecycles_done"]
        if done != peer.lives:
            problems.append(f"{peer.name}: {done} of {peer.lives} lifecycles reached deleted")
    problems += [
        f"unfinished: {life.cloud} {life.id or '(never created)'} ended {life.final or '-'} "
        f"after {life.steps}, stuck {life.stuck}"
        for life in fleet.lives
        if life.final != "deleted"
    ][:10]
    problems += [
        f"{life.cloud} {life.id}: console_log answered {life.console}"
        for life in fleet.lives
        if life.console and life.console not in CONSOLE[life.cloud]
    ][:5]
    if not settled:
        problems.append(
            f"not settled in {SETTLE_SECONDS} s: unsettled {dict(unsettled(peers))}; the last "
            f"reconciliations that failed: {reconciler.errors[-3:]}"
        )
    for key, found in findings.violations.items():
        if found:
            problems.append(
                f"{key} ({INVARIANTS[key]}): {len(found)} violation(s)\n    "
                + "\n    ".join(found[:8])
            )
    assert not problems, "\n".join(problems)
