"""How instance work is handed to django-q2: at once (after the commit) or a little later.

Tasks take the instance's id as a string and the request id, so a worker's log lines carry
the id of the request that caused them. (Never a keyword named timeout, group, hook, sync,
save, cached, broker or cluster: django-q2 takes those for itself.)
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task


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
    """Run the task in about `seconds` (django-q2's scheduler looks every ~30 s)."""
    Schedule.objects.create(
        func=f"instances.tasks.{task}",
        args=repr((str(instance_id), request_id, *args)),
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=timezone.now() + timedelta(seconds=seconds),
        name=f"{task} {instance_id} {timezone.now().timestamp()}",
    )
