"""The results as a Markdown table (docs/performance.md's), for the sections that ran;
a failed section is named above the table, its error is in the JSON."""

from __future__ import annotations


def _ran(r: dict, *names: str) -> bool:
    return all(isinstance(r.get(name), dict | list) and "failed" not in r[name] for name in names)


def _rps(m: dict) -> str:
    return f"{m['rps']} ({m['p50_ms']}/{m['p99_ms']})"


def _reads(r: dict) -> list[str]:
    reads = r["reads"]
    return [
        f"| GET one instance, req/s (p50/p99 ms) | {_rps(reads['pcm'])} | "
        f"{_rps(reads['baseline'])} | {reads['ratio']} | >= 0.9 |"
    ]


def _lists(r: dict) -> list[str]:
    lines = []
    for size in (20, 100):
        page = r["lists"][f"page_{size}"]
        lines.append(
            f"| list, page of {size}, req/s (p50/p99 ms) | {_rps(page['pcm'])} | "
            f"{_rps(page['baseline'])} | {page['ratio']} | >= 0.9 |"
        )
    return lines


def _accept(r: dict) -> list[str]:
    fast, slow = r["accept"], r["accept_slow"]
    return [
        f"| POST to 202, 16 clients, p50/p99 ms, provider +1 s vs +0 s | "
        f"{slow['p50_ms']}/{slow['p99_ms']} | {fast['p50_ms']}/{fast['p99_ms']} | "
        f"{round(slow['p99_ms'] / fast['p99_ms'], 2)} | p99 < 50, independent of the provider |"
    ]


def _open_loop(r: dict) -> list[str]:
    o = r["open_loop"]
    lines = [
        f"| POST to 202 at {run['rate_per_s']:g}/s open loop, provider +{o['provider_delay_s']} s, "
        f"p50/p99/max ms (202s of sent; achieved/s) | {run['p50_ms']}/{run['p99_ms']}/"
        f"{run['max_ms']} ({run['accepted']} of {run['sent']}; {run['achieved_per_s']}) | | | "
        f"p99 < {o['hold_p99_ms']} |"
        for run in o["runs"]
    ]
    lines.append(
        f"| highest rate held with p99 < {o['hold_p99_ms']} ms, creates/s | "
        f"{o['held_rate_per_s'] or 'none'} | | | |"
    )
    return lines


def _throughput(r: dict) -> list[str]:
    lines = []
    for key, label in (("throughput", "moto"), ("throughput_slow", "moto + delay")):
        if not _ran(r, key):
            continue
        for row in r[key]:
            lines.append(
                f"| provisioning at {label}, W={row['workers']}, instances/s | "
                f"{row['pcm_per_s']} | {row['direct_per_s']} | {row['ratio']} | >= 0.9 |"
            )
    return lines


def _lifecycle(r: dict) -> list[str]:
    life = r["lifecycle"]
    per = life["cpu_s_per_instance"]
    return [
        f"| CPU s per instance created and deleted ({life['instances']}, {life['wall_s']} s): "
        f"web + worker = total (moto) | {per['web']} + {per['worker']} = {per['total']} | "
        f"moto {per['moto']} | | |"
    ]


def _scaleout(r: dict) -> list[str]:
    s = r["scaleout"]
    return [
        f"| provisioning at moto + {s['provider_delay_s']} s, instances/s: 2 web servers + "
        f"2 clusters of 8 vs 1 + 1 of 16 | {s['two_per_s']} | {s['one_per_s']} | "
        f"{s['ratio']} | |"
    ]


def _broker(r: dict) -> list[str]:
    return [
        f"| ORM broker, {row['tasks']} no-op tasks, {row['clusters']} cluster(s) of "
        f"{row['workers'] // row['clusters']}, tasks/s | {row['tasks_per_s']} | | | |"
        for row in r["broker"]
    ]


def _reconcile(r: dict) -> list[str]:
    return [
        f"| reconcile {row['instances']} instances, s (provider calls) | {row['seconds']} "
        f"({row['provider_calls']}) | its provider list {row['provider_list_seconds']} "
        f"(libcloud alone {row['libcloud_list_seconds']}) | "
        f"PCM's part {row['pcm_seconds']} s | 10,000 < 3 s, 1 call |"
        for row in r["reconcile"]
    ]


# Each group of rows and the sections it needs (throughput takes either of its two).
ROWS = (
    (("reads",), _reads),
    (("lists",), _lists),
    (("accept", "accept_slow"), _accept),
    (("open_loop",), _open_loop),
    ((), _throughput),
    (("lifecycle",), _lifecycle),
    (("scaleout",), _scaleout),
    (("broker",), _broker),
    (("reconcile",), _reconcile),
)


def print_table(r: dict) -> None:
    failed = [name for name, value in r.items() if isinstance(value, dict) and "failed" in value]
    print(f"\ndatabase: {r['database']}, {r['machine']['cores']} cores")
    if failed:
        print(f"FAILED: {', '.join(failed)} (see the JSON)")
    lines = ["| measure | PCM | baseline | ratio | goal |", "|---|---|---|---|---|"]
    for needs, rows in ROWS:
        if _ran(r, *needs):
            lines += rows(r)
    print("\n".join(lines))
