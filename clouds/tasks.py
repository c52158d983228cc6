"""django-q2 tasks of the configuration: the periodic reachability check of every cloud."""

from __future__ import annotations

from django_q.tasks import async_task

from clouds.models import Cloud
from clouds.services import cloud_check

CHECK_SCHEDULE_NAME = "pcm: check clouds"


def check_clouds() -> int:
    """Scheduled: one check task per enabled cloud, so that a slow cloud delays no other."""
    ids = list(Cloud.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        async_task("clouds.tasks.check_cloud", pk, task_name=f"check cloud {pk}")
    return len(ids)


def check_cloud(cloud_pk: int) -> bool:
    cloud = Cloud.objects.filter(pk=cloud_pk).first()
    if cloud is None:  # deleted meanwhile
        return False
    return cloud_check(cloud=cloud).ok
