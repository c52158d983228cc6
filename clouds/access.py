"""Who may see and act on which cloud: groups are granted clouds, read-only or operator.

A cloud a user may not see does not exist for them: a 404, never a 403 that would confirm
it. A cloud they may only read answers writes with a 403.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from clouds.models import Cloud, CloudAccess
from pcm.errors import Forbidden, NotFound


def _grants(user) -> QuerySet[CloudAccess]:
    return CloudAccess.objects.filter(group__user=user)


def sees_every_cloud(user) -> bool:
    """A superuser, or a member of a group granted every cloud (one query for the latter)."""
    return user.is_superuser or _grants(user).filter(cloud__isnull=True).exists()


def granted_clouds(user) -> QuerySet[Cloud]:
    """The clouds granted to the user's groups one by one."""
    return Cloud.objects.filter(access__group__user=user).distinct()


def visible_clouds(user) -> QuerySet[Cloud]:
    if not getattr(user, "is_authenticated", False):
        return Cloud.objects.none()
    return Cloud.objects.all() if sees_every_cloud(user) else granted_clouds(user)


def _covering(cloud) -> Q:
    """Grants of `cloud` itself (a Cloud, or OuterRef("pk") in a subquery) or of every cloud."""
    return Q(cloud=cloud) | Q(cloud__isnull=True)


def can_operate(user, cloud: Cloud) -> bool:
    if user.is_superuser:
        return True
    return _grants(user).filter(_covering(cloud), level=CloudAccess.Level.OPERATE).exists()


def _granted(user, **terms) -> Exists:
    """Whether a grant of the user's groups covers the outer query's cloud (one by one or
    every cloud), with `terms` (a level), as a subquery."""
    return Exists(_grants(user).filter(_covering(OuterRef("pk")), **terms))


def cloud_for(user, name: str, *, operate: bool = False, why: str = "") -> Cloud:
    """The cloud called `name` if the user may see it (404 otherwise), and may act on it
    when `operate` (403 otherwise, saying `why` operate access is needed when given).
    One query: the user's grants are asked in the cloud's own (a create, a delete and
    every action start here)."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound(f"Cloud {name} does not exist")
    clouds = Cloud.objects.filter(name=name)
    if not user.is_superuser:
        clouds = clouds.annotate(seen=_granted(user))
        if operate:
            clouds = clouds.annotate(operated=_granted(user, level=CloudAccess.Level.OPERATE))
    cloud = clouds.first()
    if cloud is None or not getattr(cloud, "seen", True):
        raise NotFound(f"Cloud {name} does not exist")
    if operate and not getattr(cloud, "operated", True):
        if why:
            raise Forbidden(f"You may only read cloud {name}: operator access is needed to {why}")
        raise Forbidden(f"You may only read cloud {name}")
    return cloud
