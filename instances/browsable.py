"""What the browsable API offers on a cloud's instance pages (pcm/renderers.py): a create
request that works on that cloud, the status form, and links to events and console log."""

from __future__ import annotations

from rest_framework.reverse import reverse

from clouds.access import can_operate, cloud_for
from clouds.models import AbstractImage, AbstractSize, Cloud, Environment, Role
from instances import plan
from instances.models import Instance
from pcm.errors import PCMError
from pcm.renderers import BrowsablePage, RawForm

CREATE_HELP = (
    "The create request, ready to POST: " + ", ".join(plan.CREATE_FIELDS) + ". Left out or "
    "null, size, image, subnet and environment take the role's or the cloud's defaults, and "
    "lease (an ISO 8601 duration such as PT8H, or seconds) the role's or the environment's; "
    "extra is keyed by provider type. The answer is 202 with the new instance."
)
STATUS_HELP = (
    'PUT or PATCH {"status": ...}: "reboot" reboots, "stopped" stops, "running" starts '
    '(202). PATCH {"tags": {...}} replaces the tags (200); PATCH {"lease": "PT8H"} or '
    '{"expires_at": "<ISO 8601 time>"} moves the end of the lease (200). DELETE deletes the '
    "instance."
)
ROLES_TRIED = 10  # each is a full plan_create: a page must stay cheap


def _image(cloud: Cloud) -> AbstractImage | None:
    """The cloud's default if it is mapped there, else the first one mapped."""
    default = cloud.default_image
    mapped = AbstractImage.objects.filter(mappings__cloud=cloud)
    if default is not None and mapped.filter(pk=default.pk).exists():
        return default
    return mapped.first()


def _size(cloud: Cloud) -> AbstractSize | None:
    """The cloud's default if it is mapped and within its limits, else the first such."""
    default = cloud.default_size
    mapped = AbstractSize.objects.filter(mappings__cloud=cloud)
    within = [size for size in mapped if cloud.size_within_limits(size)]
    if default in within:
        return default
    return within[0] if within else mapped.first()


def create_example(cloud: Cloud) -> dict:
    """Every field of the create request, with values that plan_create accepts on `cloud`
    where its configuration allows: its default (else first mapped) size and image, an
    environment, and the first role that allows them (else none)."""
    size = _size(cloud)
    image = _image(cloud)
    environment = cloud.default_environment or Environment.objects.first()
    subnet = cloud.default_subnet
    if subnet is not None and not cloud.subnet_mappings.filter(subnet=subnet).exists():
        subnet = None
    example = {
        "size": size and size.name,
        "image": image and image.name,
        "subnet": subnet and subnet.name,
        "environment": environment and environment.name,
        "role": None,
        "ssh_keys": [],
        "user_data": None,
        "tags": {},
        "lease": None,
        "extra": {cloud.provider: {}},
    }
    for role in Role.objects.all()[:ROLES_TRIED]:
        try:
            plan.plan_create(cloud=cloud, data={**example, "role": role.name})
        except PCMError:
            continue
        return {**example, "role": role.name}
    return example


def _instance_url(view, instance: Instance, route: str = "instance-detail") -> str:
    kwargs = {"cloud": instance.cloud.name, "instance": str(instance.pk)}
    return reverse(route, kwargs=kwargs, request=view.request)


def page(view) -> BrowsablePage:
    """The page of the InstanceViewSet `view` is about to render."""
    user = view.request.user
    if view.action in ("list", "create"):
        cloud = cloud_for(user, view.kwargs["cloud"])
        if not can_operate(user, cloud):
            return BrowsablePage(writable=False)
        return BrowsablePage(forms={"POST": RawForm(create_example(cloud), CREATE_HELP)})
    instance = view.get_object()
    # Its crumb reads its name, on its own page and on its events and console log.
    crumbs = {reverse("instance-detail", kwargs=view.kwargs): instance.name or str(instance.pk)}
    if view.action in ("events", "console_log"):
        return BrowsablePage(writable=False, crumbs=crumbs)
    status = "running" if instance.status == "stopped" else "reboot"
    action = RawForm({"status": status}, STATUS_HELP)
    return BrowsablePage(
        writable=can_operate(user, instance.cloud),
        forms={"PUT": action, "PATCH": action},
        links=[
            ("Events", _instance_url(view, instance, "instance-events")),
            ("Console log", _instance_url(view, instance, "instance-console-log")),
        ],
        crumbs=crumbs,
    )
