"""What the ORM broker sustains: M no-op tasks (bench.tasks.noop) enqueued with
async_task in one transaction, in this process, while the clusters wait; then the time
until they have all run: a Task row each (PCM's save_limit=0 keeps every success, it
does not prune) and an empty queue (the monitor acknowledges, deleting the queue row,
after it saved the Task). One cluster of 8 workers, then two of 8."""

from __future__ import annotations

import time

from django.db import transaction
from django_q.models import OrmQ, Task
from django_q.tasks import async_task

from bench import cpu
from bench.fixtures import clear_instances
from bench.servers import cluster, stop

NOOP = "bench.tasks.noop"
LAYOUTS = ([8], [8, 8])  # workers per cluster


def bench_broker(count: int) -> list[dict]:
    return [_drain(count, clusters) for clusters in LAYOUTS]


def _drain(count: int, clusters: list[int]) -> dict:
    clear_instances()  # also the queue and the Task rows
    processes = [cluster(w) for w in clusters]
    try:
        cpu_before = sum(cpu.cpu_seconds(p.pid) for p in processes)
        enqueued_at = time.monotonic()
        with transaction.atomic():
            for _ in range(count):
                async_task(NOOP)
        started_at = time.monotonic()
        done_at = _drained(count)
        cpu_used = sum(cpu.cpu_seconds(p.pid) for p in processes) - cpu_before
    finally:
        for process in processes:
            stop(process)
    seconds = done_at - started_at
    row = {
        "clusters": len(clusters),
        "workers": sum(clusters),
        "tasks": count,
        "enqueue_per_s": round(count / (started_at - enqueued_at), 1),
        "seconds": round(seconds, 2),
        "tasks_per_s": round(count / seconds, 1),
        # django-q2's own cost of a task: the clusters' CPU (pusher, workers, monitor).
        "cluster_cpu_ms_per_task": round(cpu_used / count * 1000, 2),
    }
    print(
        f"  {len(clusters)} x {clusters[0]} workers: {row['tasks_per_s']} tasks/s, "
        f"{row['cluster_cpu_ms_per_task']} ms of cluster CPU a task",
        flush=True,
    )
    return row


def _drained(count: int, seconds: float = 600) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if Task.objects.filter(func=NOOP).count() >= count and not OrmQ.objects.exists():
            return time.monotonic()
        time.sleep(0.05)
    raise RuntimeError(f"{count} tasks not drained in {seconds} s")
