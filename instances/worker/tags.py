"""The client's tags, pushed to the node's own tags or metadata (`provider_tags`).

The create carries the tags it was given; a change (PATCH) is pushed here, in a task of its
own that does not drive the instance (its status is not touched, and it takes no lease:
it only writes the tags the row holds when it runs, so the last change wins). A node not
made yet is waited for; a transient failure is tried again a few times.
"""

from __future__ import annotations

from django.conf import settings

from clouds.services import provider_for
from instances import queue
from instances.models import Instance
from instances.worker.rows import by_id, finish_event, logger
from providers.base import ProviderError
from providers.status import Status

TRIES = 5


def push_tags(instance_id: str, request_id: str = "", tries: int = 0) -> None:
    instance = by_id(Instance.objects.select_related("cloud"), instance_id)
    if instance is None or instance.status in (Status.DELETED, Status.DELETING):
        return
    if not instance.provider_id:
        if instance.status in (Status.PENDING, Status.BUILDING) and tries < TRIES * 10:
            _again(instance, request_id, tries)  # the create will have carried older tags
        else:
            finish_event(instance, "tag", request_id=request_id, detail="no node to tag")
        return
    try:
        provider_for(instance.cloud).set_tags(instance.provider_id, str(instance.pk), instance.tags)
    except ProviderError as exc:
        if exc.transient and tries < TRIES:
            logger.info("Instance %s: tags not pushed (%s); again", instance.pk, exc.message)
            _again(instance, request_id, tries)
        else:
            error = f"the cloud's tags were not set: {exc.message}"
            finish_event(instance, "tag", error, request_id)
        return
    finish_event(instance, "tag", request_id=request_id, detail="the cloud's tags are set")


def _again(instance: Instance, request_id: str, tries: int) -> None:
    seconds = settings.PCM_WATCH_SECONDS * 2 ** min(tries, 4)
    queue.enqueue("push_tags", instance.pk, request_id, tries + 1, seconds=seconds)
