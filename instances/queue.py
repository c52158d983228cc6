"""How instance work is handed to django-q2.

The ORM broker's queue is a table in PCM's own database, so a task enqueued inside a
transaction commits, or rolls back, with the rows written beside it: an outbox. Work that
drives an instance (provision, act, delete, watch) is enqueued that way and its queue entry
is kept on the instance (`task_entry`), so that reconciliation can tell a lost task from a
queued or running one (a running task's entry stays until it is acknowledged).

Tasks take the instance's id as a string and the request id, so a worker's log lines carry
the id of the request that caused them. (Never a keyword named timeout, group, hook, sync,
save, cached, broker or cluster: django-q2 takes those for itself.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.tasks import async_task

from instances.models import Instance


class Outbox(ORM):
    """django-q2's ORM broker, keeping the id of the queue entry it writes, and able to
    make a task visible only later: the broker hands out a task once its `lock` time has
    passed, so a later `lock` makes a task that waits without a worker and without the
    scheduler (which looks only every 30 s)."""

    def __init__(self, seconds: float = 0):
        super().__init__()
        self.seconds = seconds
        self.entry: int | None = None

    def enqueue(self, task):
        visible = timezone.now() + timedelta(seconds=self.seconds)
        key = self.list_key or Conf.CLUSTER_NAME
        self.entry = self.get_connection().create(key=key, payload=task, lock=visible).pk
        return self.entry


def enqueue(task: str, instance_id, request_id: str = "", *args, seconds: float = 0) -> int:
    """Queue `instances.tasks.<task>` for the instance, in the current transaction if there
    is one, to run in about `seconds`; the queue entry's id."""
    outbox = Outbox(seconds)
    async_task(
        f"instances.tasks.{task}",
        str(instance_id),
        request_id,
        *args,
        task_name=f"{task} {instance_id}",
        broker=outbox,
    )
    return outbox.entry


def drive(task: str, instance_id, request_id: str = "", *args, seconds: float = 0) -> int:
    """Queue the task that drives the instance now, and record its entry on the row (in the
    same transaction, when the caller holds one)."""
    entry = enqueue(task, instance_id, request_id, *args, seconds=seconds)
    Instance.objects.filter(pk=instance_id).update(task_entry=entry)
    return entry


def later(task: str, seconds: float, instance_id, request_id: str = "", *args) -> int:
    """Drive the instance with the task in about `seconds`."""
    return drive(task, instance_id, request_id, *args, seconds=seconds)


def queued(entries: Iterable[int | None]) -> set[int]:
    """Which of these queue entries are still there: waiting, or taken by a worker that has
    not acknowledged them (a killed worker's task comes back after django-q2's retry)."""
    wanted = {entry for entry in entries if entry}
    if not wanted:
        return set()
    return set(OrmQ.objects.filter(pk__in=wanted).values_list("pk", flat=True))


def prune_successes(keep: int) -> int:
    """Delete the successful tasks older than the newest `keep` (django-q2 keeps every one:
    its own save_limit would lock the table at each save, RUNTIME.md)."""
    successes = Task.objects.filter(success=True)
    cutoff = successes.order_by("-stopped").values_list("stopped", flat=True)[keep : keep + 1]
    if not cutoff:
        return 0
    deleted, _ = successes.filter(stopped__lte=cutoff[0]).delete()
    return deleted
