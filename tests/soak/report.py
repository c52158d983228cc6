"""The soak's summary: printed as a table and written to artifacts/soak.json (git-ignored)
for the docs to quote; the rows and events of every offender beside it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.soak.clients import Lifecycle
from tests.soak.invariants import INVARIANTS, Findings
from tests.soak.observe import Peer, Reconciler, Sampler

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def summary(
    *,
    seed: int,
    wall: float,
    settle_seconds: float,
    settled: bool,
    peers: list[Peer],
    lives: list[Lifecycle],
    kills: list[tuple[float, str]],
    sampler: Sampler,
    reconciler: Reconciler,
    findings: Findings,
    settings: dict[str, str],
    client_errors: list[str],
    server_errors: list[str],
) -> dict:
    clouds = {}
    for peer in peers:
        mine = [life for life in lives if life.cloud == peer.name]
        created = Counter(life.created or "never" for life in mine)
        refusals = sum((life.refusals for life in mine), Counter())
        conflicts = sum((life.conflicts for life in mine), Counter())
        creates = peer.faults.create_counts()
        clouds[peer.name] = {
            "lifecycles_planned": peer.lives,
            "lifecycles_done": sum(1 for life in mine if life.final == "deleted"),
            "full_lifecycles": sum(1 for life in mine if life.full and life.final == "deleted"),
            "creates_ended": dict(created),
            "create_errors": dict(
                Counter(life.create_error[:100] for life in mine if life.create_error)
            ),
            "console_log_answers": dict(Counter(str(x.console) for x in mine if x.console)),
            "action_retries": sum(1 for life in mine for s in life.steps if "after" in s),
            "stale_status_shown": sum(len(life.stale) for life in mine),
            "deleted_before_delete": sum(
                1 for life in mine if any("ended deleted" in s for s in life.steps)
            ),
            "refused_requests": {str(k): v for k, v in sorted(refusals.items())},
            "conflicts": dict(conflicts.most_common()),
            "stuck_waits": sum(len(life.stuck) for life in mine),
            "median_lifecycle_s": _median([life.seconds for life in mine]),
            "faults_injected": dict(sorted(peer.faults.injected.items())),
            "proxy_requests": peer.faults.requests,
            "nodes_made_at_peer": sum(creates.values()),
            "pcm_ids_created_twice": sum(1 for n in creates.values() if n > 1),
            "quota_instances": peer.quota,
            "most_live_rows": sampler.most(peer.name, 2),
            "most_live_nodes": sampler.most(peer.name, 3),
            "reconciliations_ok": len(reconciler.runs[peer.name]),
            "reconciliations_failed": reconciler.failures[peer.name],
            "reconcile_counts": dict(sorted(reconciler.totals[peer.name].items())),
            "reconcile_errors": dict(
                Counter(
                    e.split(": ", 1)[1] for e in reconciler.errors if e.startswith(peer.name)
                ).most_common(5)
            ),
        }
    return {
        "seed": seed,
        "wall_seconds": round(wall, 1),
        "settle_seconds": round(settle_seconds, 1),
        "settled": settled,
        "lifecycles": len(lives),
        "kills": len(kills),
        "killed": [name for _, name in kills],
        "samples": len(sampler.samples),
        "clouds": clouds,
        "violations": {key: len(found) for key, found in findings.violations.items()},
        "client_errors": client_errors,
        "api_500": server_errors,
        "settings": settings,
    }


def _median(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 1)


def table(data: dict) -> str:
    names = list(data["clouds"])
    rows = [
        (
            "lifecycles done / planned",
            lambda c: f"{c['lifecycles_done']} / {c['lifecycles_planned']}",
        ),
        ("  every step went through", lambda c: c["full_lifecycles"]),
        ("  creates ended", lambda c: ", ".join(f"{k} {v}" for k, v in c["creates_ended"].items())),
        ("  actions asked again", lambda c: c["action_retries"]),
        ("  console_log answered", lambda c: c["console_log_answers"]),
        ("  deleted before the client's delete", lambda c: c["deleted_before_delete"]),
        ("  action undone by a stale status", lambda c: c["stale_status_shown"]),
        ("  requests refused (HTTP)", lambda c: c["refused_requests"] or "-"),
        ("  median lifecycle (s)", lambda c: c["median_lifecycle_s"]),
        ("proxy requests", lambda c: c["proxy_requests"]),
        ("nodes made at the peer", lambda c: c["nodes_made_at_peer"]),
        ("  PCM ids created twice", lambda c: c["pcm_ids_created_twice"]),
        ("quota (instances)", lambda c: c["quota_instances"]),
        ("  most live rows / nodes", lambda c: f"{c['most_live_rows']} / {c['most_live_nodes']}"),
        (
            "reconciliations ok / failed",
            lambda c: f"{c['reconciliations_ok']} / {c['reconciliations_failed']}",
        ),
    ]
    kinds = sorted({k for c in data["clouds"].values() for k in c["faults_injected"]})
    rows += [(f"fault: {kind}", lambda c, k=kind: c["faults_injected"].get(k, 0)) for kind in kinds]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{'':{width}}" + "".join(f"{name:>22}" for name in names)]
    for label, value in rows:
        cells = "".join(f"{value(data['clouds'][name])!s:>22}" for name in names)
        lines.append(f"{label:{width}}{cells}")
    lines.append("")
    lines.append(
        f"seed {data['seed']}; {data['lifecycles']} lifecycles; {data['kills']} qcluster kills "
        f"({', '.join(data['killed']) or 'none'}); {data['samples']} samples; wall "
        f"{data['wall_seconds']} s (settling {data['settle_seconds']} s, "
        f"{'settled' if data['settled'] else 'NOT settled'})"
    )
    lines.append(f"HTTP 500 answers of PCM's API: {len(data['api_500'])}")
    lines.append("violations:")
    for key, text in INVARIANTS.items():
        lines.append(f"  {key:22} {data['violations'][key]:>4}  {text}")
    return "\n".join(lines)


def write(data: dict, findings: Findings) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "soak.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    offenders = {"violations": findings.violations, "instances": findings.details}
    (ARTIFACTS / "soak-offenders.json").write_text(json.dumps(offenders, indent=2) + "\n")
    return path
