"""How instance work is handed to django-q2: at once (after the commit) or a little later.

Tasks take the instance's id as a string and the request id, so a worker's log lines carry
the id of the request that caused them. (Never a keyword named timeout, group, hook, sync,
save, cached, broker or cluster: django-q2 takes those for itself.)
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.tasks import async_task


class DelayedORM(ORM):
    """django-q2's ORM broker hands out a queued task once its `lock` time has passed, and
    enqueues with `lock=now`. Enqueuing with a later `lock` makes a task that waits without
    a worker and without the scheduler (which looks only every 30 s)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def enqueue(self, task):
        visible = timezone.now() + timedelta(seconds=self.seconds)
        return self.get_connection().create(key=self.list_key, payload=task, lock=visible).pk


def enqueue(task: str, instance_id, request_id: str = "", *args) -> None:
    async_task(
        f"instances.tasks.{task}",
        str(instance_id),
        request_id,
        *args,
        task_name=f"{task} {instance_id}",
    )


def on_commit(task: str, instance_id, request_id: str = "", *args) -> None:
    """Enqueue once the current transaction commits (never for a row that was rolled back)."""
    transaction.on_commit(lambda: enqueue(task, instance_id, request_id, *args))


def later(task: str, seconds: float, instance_id, request_id: str = "", *args) -> None:
    """Run the task in about `seconds`."""
    async_task(
        f"instances.tasks.{task}",
        str(instance_id),
        request_id,
        *args,
        task_name=f"{task} {instance_id}",
        broker=DelayedORM(seconds),
    )
