"""The invariants checked at the end of the soak: the record (PCM's rows, its orphans)
against the clouds' own listings, straight at the peers (observe.Peer.live_nodes), plus the
samples taken during the run; and, for each offender, its row and its events."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from instances.models import Instance, Orphan
from providers.status import Status
from tests.soak.observe import UNSETTLED, Peer, Sampler

INVARIANTS = {
    "a_node_accounted": "every live tagged node is one live row's node, or a reported orphan",
    "a_no_duplicate": "at most one live node per PCM id",
    "b_row_has_node": "no live row lacks its node",
    "c_deleted_node_gone": "every deleted row's node is gone at the provider",
    "d_settled": "no instance in a transitional status",
    "e_quota": "no sample with more live rows than the cloud's instance quota",
    "e_quota_nodes": "no sample with more live tagged nodes at the cloud than its quota",
    "f_no_stale_status": "no accepted action shown undone, without an error, by an older look",
}


@dataclass
class Findings:
    """Violations per invariant, and what the rows and events looked like."""

    violations: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in INVARIANTS})
    details: dict[str, dict] = field(default_factory=dict)  # instance id -> row and events

    def add(self, invariant: str, message: str, instance: Instance | None = None) -> None:
        self.violations[invariant].append(message)
        if instance is not None:
            self.details[str(instance.pk)] = describe(instance)

    def describe_too(self, pks: list[str]) -> None:
        for instance in Instance.objects.filter(pk__in=pks).select_related("cloud"):
            self.details[str(instance.pk)] = describe(instance)


def row(instance: Instance) -> str:
    return (
        f"{instance.pk} {instance.name} status={instance.status} "
        f"provider_id={instance.provider_id or '-'} node_may_exist={instance.node_may_exist} "
        f"attempts={instance.attempts} last_error={instance.last_error[:120]!r}"
    )


def describe(instance: Instance) -> dict:
    fields = (
        "status",
        "raw_status",
        "provider_id",
        "node_may_exist",
        "acted_at",
        "absent_since",
        "attempts",
        "last_error",
        "task_entry",
        "busy_until",
        "status_since",
        "created_at",
    )
    described = {name: str(getattr(instance, name)) for name in fields}
    described["cloud"] = instance.cloud.name
    described["events"] = [
        f"{e.started_at:%H:%M:%S.%f} {e.actor} {e.action} {e.outcome} {e.detail} {e.error}"
        for e in instance.events.order_by("started_at", "id")
    ]
    return described


def check(peers: list[Peer], sampler: Sampler) -> Findings:
    """The record against the clouds' own listings (straight at the peers)."""
    found = Findings()
    for peer in peers:
        live = peer.live_nodes()
        live_ids = {node.provider_id for node in live}
        tagged = defaultdict(list)
        for node in live:
            if node.pcm_id:
                tagged[node.pcm_id].append(node)
        rows = Instance.objects.filter(cloud_id=peer.pk).select_related("cloud")
        live_rows = list(rows.live())
        owners = defaultdict(list)
        for instance in live_rows:
            if instance.provider_id:
                owners[instance.provider_id].append(instance)
        orphans = set(Orphan.objects.filter(cloud_id=peer.pk).values_list("provider_id", flat=True))
        for node in (n for n in live if n.pcm_id):
            mine = owners.get(node.provider_id, [])
            if len(mine) == 1 and str(mine[0].pk) == node.pcm_id:
                continue
            if node.provider_id in orphans and not mine:
                continue
            instance = rows.filter(pk=node.pcm_id).first() if _uuid(node.pcm_id) else None
            found.add(
                "a_node_accounted",
                f"{peer.name}: node {node.provider_id} ({node.raw_status}) tagged {node.pcm_id} "
                f"is the node of {len(mine)} live rows and no orphan; its row: "
                f"{row(instance) if instance else 'none'}",
                instance,
            )
        for pcm_id, same in tagged.items():
            if len(same) > 1:
                instance = rows.filter(pk=pcm_id).first() if _uuid(pcm_id) else None
                its = row(instance) if instance else "none"
                found.add(
                    "a_no_duplicate",
                    f"{peer.name}: {len(same)} live nodes tagged {pcm_id}: "
                    f"{[n.provider_id for n in same]}; its row: {its}",
                    instance,
                )
        for instance in live_rows:
            has = (
                instance.provider_id in live_ids
                if instance.provider_id
                else bool(tagged.get(str(instance.pk)))
            )
            if not has:
                found.add("b_row_has_node", f"{peer.name}: {row(instance)}", instance)
        for instance in rows.filter(status=Status.DELETED):
            if instance.provider_id in live_ids or str(instance.pk) in tagged:
                left = [n.provider_id for n in tagged.get(str(instance.pk), [])]
                found.add(
                    "c_deleted_node_gone",
                    f"{peer.name}: {row(instance)}; live nodes: {left or [instance.provider_id]}",
                    instance,
                )
        for instance in rows.filter(status__in=UNSETTLED):
            found.add("d_settled", f"{peer.name}: {row(instance)}", instance)
    found.violations["e_quota"] = list(sampler.violations)
    found.violations["e_quota_nodes"] = list(sampler.node_violations)
    for instance in Instance.objects.filter(pk__in=sampler.suspects).select_related("cloud"):
        found.details[str(instance.pk)] = describe(instance)
    return found


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
