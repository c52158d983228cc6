"""Lookups of the configuration that views and (later) instance services share."""

from __future__ import annotations

from clouds.models import Cloud
from pcm.errors import NotFound


def cloud_get(*, name: str) -> Cloud:
    """The cloud called `name`, or the API's 404."""
    try:
        return Cloud.objects.get(name=name)
    except Cloud.DoesNotExist:
        raise NotFound(f"Cloud {name} does not exist") from None
