"""What the soak looks at besides the API: the clouds' own listings (straight at moto and
Nova, never through the chaos proxy), samples of rows and nodes during the run,
reconciliation in a thread of its own, and the wait until everything has settled."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from django.db import close_old_connections, connection
from libcloud.compute.drivers.ec2 import NAMESPACE
from libcloud.utils.xml import findall, findtext

from clouds.models import Cloud
from instances.models import Instance
from instances.worker import reconcile_cloud
from providers.base import TAG, Provider
from providers.ec2 import EC2Provider
from tests.fault_proxy import Faults

# (d): PCM's work on the instance is under way (or it does not know where it is).
UNSETTLED = {"pending", "building", "rebooting", "stopping", "starting", "deleting", "unknown"}
EC2_LIVE = ["pending", "running", "stopping", "stopped", "shutting-down"]


@dataclass(frozen=True)
class Seen:
    """A node as the peer itself lists it."""

    provider_id: str
    raw_status: str
    pcm_id: str | None


@dataclass
class Peer:
    """A cloud as PCM sees it (through the proxy) and as it is (`direct`: its peer)."""

    name: str
    pk: int
    quota: int
    direct: Provider  # straight at the peer, no circuit breaker, no proxy: the truth
    faults: Faults
    lives: int  # lifecycles planned

    def live_nodes(self) -> list[Seen]:
        """Every live node at the peer, listed page by page here rather than by PCM's own
        list() (the code under test): EC2 DescribeInstances filtered to the live states and
        followed by NextToken; Nova's servers/detail followed by its "next" links."""
        connection = self.direct.driver.connection
        if isinstance(self.direct, EC2Provider):
            return _ec2_live(self.direct.driver, connection)
        return _nova_live(connection)


def _ec2_live(driver, connection) -> list[Seen]:
    seen, token = [], None
    for _ in range(1000):
        params = {"Action": "DescribeInstances", "MaxResults": "1000"}
        params.update({"Filter.1.Name": "instance-state-name"})
        params.update({f"Filter.1.Value.{i}": v for i, v in enumerate(EC2_LIVE, 1)})
        if token:
            params["NextToken"] = token
        answer = connection.request(driver.path, params=params).object
        for reservation in findall(answer, "reservationSet/item", NAMESPACE):
            for item in findall(reservation, "instancesSet/item", NAMESPACE):
                tags = {
                    findtext(tag, "key", NAMESPACE): findtext(tag, "value", NAMESPACE)
                    for tag in findall(item, "tagSet/item", NAMESPACE)
                }
                state = findtext(item, "instanceState/name", NAMESPACE)
                seen.append(Seen(findtext(item, "instanceId", NAMESPACE), state, tags.get(TAG)))
        token = findtext(answer, "nextToken", NAMESPACE)
        if not token:
            return seen
    raise AssertionError("DescribeInstances at moto did not end")


def _nova_live(connection) -> list[Seen]:
    seen, params = [], {}
    for _ in range(1000):
        answer = connection.request("/servers/detail", params=params).object
        for server in answer.get("servers", []):
            if server["status"] not in ("DELETED", "SOFT_DELETED"):
                metadata = server.get("metadata") or {}
                seen.append(Seen(str(server["id"]), server["status"], metadata.get(TAG)))
        following = [link for link in answer.get("servers_links", []) if link["rel"] == "next"]
        if not following:
            return seen
        params = dict(parse_qsl(urlsplit(following[0]["href"]).query))
    raise AssertionError("servers/detail at Nova did not end")


class Every(threading.Thread):
    """Call `step` every `seconds` until stopped; a failed step is counted, not fatal."""

    def __init__(self, name: str, seconds: float, step):
        super().__init__(name=name, daemon=True)
        self.seconds = seconds
        self.step = step
        self.stopping = threading.Event()
        self.failures: Counter = Counter()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                close_old_connections()
                self.step()
                self.stopping.wait(max(0.0, self.seconds - (time.monotonic() - started)))
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=120)


class Sampler(Every):
    """Each second: live rows per cloud (Instance.objects.live()) and live tagged nodes at
    the peer. More live rows than the quota is a violation (e); so is more live tagged
    nodes than the quota: a row counts from its create request on, before its node exists,
    and becomes deleted only once the node is gone, so a truthful record never has fewer
    live rows than the cloud has live nodes (the nodes are listed after the rows)."""

    def __init__(self, peers: list[Peer], seconds: float = 1.0):
        super().__init__("soak-sampler", seconds, self.sample)
        self.peers = peers
        self.samples: list[tuple[float, str, int, int | None]] = []
        self.violations: list[str] = []
        self.node_violations: list[str] = []
        self.suspects: set[str] = set()  # the rows of a sample above the quota

    def sample(self) -> None:
        now = time.monotonic()
        for peer in self.peers:
            live = list(
                Instance.objects.filter(cloud_id=peer.pk)
                .live()
                .values_list("pk", "status", "provider_id", "node_may_exist")
            )  # one query: the count and the rows of one snapshot
            try:
                tagged = [node for node in peer.live_nodes() if node.pcm_id]
            except Exception:
                self.failures[peer.name] += 1
                tagged = None
            nodes = None if tagged is None else len(tagged)
            self.samples.append((now, peer.name, len(live), nodes))
            if nodes is not None and nodes > peer.quota:  # the rows were fewer: a lie
                counted = {str(pk) for pk, *_ in live}
                extra = [
                    f"{n.provider_id} of {n.pcm_id}" for n in tagged if n.pcm_id not in counted
                ]
                self.suspects.update(n.pcm_id for n in tagged if n.pcm_id not in counted)
                self.node_violations.append(
                    f"{peer.name}: {nodes} live tagged nodes at the cloud > quota {peer.quota} "
                    f"({len(live)} live rows); nodes of no live row: {extra}"
                )
            if len(live) > peer.quota:
                self.suspects.update(str(pk) for pk, *_ in live)
                rows = ", ".join(
                    f"{pk} {status} {provider_id or '-'}{' may' if may else ''}"
                    for pk, status, provider_id, may in live
                )
                self.violations.append(
                    f"{peer.name}: {len(live)} live rows > quota {peer.quota}: {rows}"
                )

    def most(self, name: str, index: int) -> int:
        values = [s[index] for s in self.samples if s[1] == name and s[index] is not None]
        return max(values, default=0)


class Reconciler(Every):
    """reconcile_cloud() of each cloud every `seconds`, through the proxy as the worker
    would (the cluster's own schedule runs only each minute); a cloud whose listing failed
    (the chaos) is tried again a second later."""

    def __init__(self, peers: list[Peer], seconds: float):
        super().__init__("soak-reconciler", 1.0, self.reconcile)
        self.every = seconds
        self.peers = peers
        self.due = {peer.name: 0.0 for peer in peers}
        self.runs: dict[str, list[float]] = defaultdict(list)  # start of each success
        self.totals: dict[str, Counter] = defaultdict(Counter)
        self.errors: list[str] = []

    def reconcile(self) -> None:
        for peer in self.peers:
            started = time.monotonic()
            if started < self.due[peer.name]:
                continue
            self.due[peer.name] = started + self.every
            try:
                counts = reconcile_cloud(Cloud.objects.get(pk=peer.pk))
            except Exception as exc:
                self.failures[peer.name] += 1
                self.errors.append(f"{peer.name}: {str(exc)[:90]}")
                continue
            self.runs[peer.name].append(started)
            self.totals[peer.name].update({k: v for k, v in counts.items() if v})

    def settled_twice_since(self, since: float, gap: float) -> bool:
        """Each cloud reconciled successfully at least twice after `since`, the first and
        the last at least `gap` seconds apart (an absence needs two listings that far apart)."""
        for peer in self.peers:
            runs = [t for t in self.runs[peer.name] if t >= since]
            if len(runs) < 2 or runs[-1] - runs[0] < gap:
                return False
        return True


def unsettled(peers: list[Peer]) -> Counter:
    statuses = Instance.objects.filter(cloud_id__in=[p.pk for p in peers], status__in=UNSETTLED)
    return Counter(statuses.values_list("status", flat=True))


def settle(reconciler: Reconciler, peers: list[Peer], gap: float, seconds: float):
    """Wait until no instance is unsettled and reconciliation has run twice more, `gap`
    apart, since then (and still nothing unsettled): (whether it did, the seconds it took)."""
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        if unsettled(peers):
            time.sleep(1)
            continue
        since = time.monotonic()
        while time.monotonic() < deadline and not reconciler.settled_twice_since(since, gap):
            time.sleep(0.5)
        if reconciler.settled_twice_since(since, gap) and not unsettled(peers):
            return True, time.monotonic() - started
    return False, time.monotonic() - started
