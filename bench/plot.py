"""The throughput plot: instances/s against W, PCM and direct creates, at moto and with
the added provider latency."""

from __future__ import annotations

from pathlib import Path


def plot(rows: list[dict], slow: list[dict], delay: float, path: Path) -> None:
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
    workers = sorted({r["workers"] for r in rows + slow})
    plt.xlabel("W (threads / django-q2 workers)")
    plt.ylabel("instances per second")
    plt.xscale("log", base=2)
    plt.xticks(workers, [str(w) for w in workers])
    plt.grid(True, alpha=0.3)
    plt.legend(fontsize=8)
    plt.title("Provisioning throughput (2 cores shared by everything)")
    plt.tight_layout()
    plt.savefig(path, dpi=100)
