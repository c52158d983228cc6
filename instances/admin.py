"""Instances in the admin: for reading, and for the two operations an administrator needs
there (reboot, delete). What PCM records (statuses, provider ids, events) would lie if edited
by hand, so rows are read-only; the operations go through the services the API uses, so they
enqueue the same tasks and record the same events.

The cloud admin is extended here too: quota usage, instances and orphans are counted by
this app, and imports run instances -> clouds, never back.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from functools import partial
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince, timeuntil

from clouds import admin as clouds_admin
from clouds.access import can_operate, visible_clouds
from clouds.admin import AMBER, GREEN, GREY, PURPLE, RED, badge
from clouds.models import Cloud
from instances.leases import human, maximum
from instances.models import Instance, InstanceEvent, Orphan
from instances.services import cloud_usage, instance_act, instance_delete, instance_set_expiry
from pcm.errors import PCMError
from providers.status import Status

STATUS_COLOURS = {
    Status.RUNNING: GREEN,
    Status.ERROR: RED,
    Status.STOPPED: GREY,
    Status.DELETED: GREY,
    Status.UNKNOWN: PURPLE,
}  # every other status is a transition: amber
OUTCOME_COLOURS = {"succeeded": GREEN, "failed": RED}

# What the admin may do to an instance: the API's own services.
OPERATIONS = {"reboot": partial(instance_act, status="reboot"), "delete": instance_delete}


def _admin_link(url_name: str, text: str, **params) -> str:
    url = reverse(url_name) + (f"?{urlencode(params)}" if params else "")
    return format_html('<a href="{}">{}</a>', url, text)


def task_links(**params) -> str:
    """Links to django-q2's task lists filtered by `params` (admin changelist query).

    The queue cannot be filtered: a queued task's name is inside its signed payload."""
    links = [
        _admin_link("admin:django_q_success_changelist", "succeeded tasks", **params),
        _admin_link("admin:django_q_failure_changelist", "failed tasks", **params),
    ]
    with suppress(NoReverseMatch):  # django-q2 shows its queue only with the ORM broker
        links.append(_admin_link("admin:django_q_ormq_changelist", "queue (all tasks)"))
    return format_html_join(" · ", "{}", ((link,) for link in links))


# The admin's one-click extension of a lease (within the maximum that applies).
EXTENSION = timedelta(days=1)


class LeaseFilter(admin.SimpleListFilter):
    """Instances by the time their lease has left."""

    title = "lease"
    parameter_name = "lease"
    WITHIN = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}

    def lookups(self, request, model_admin):
        return [
            ("expired", "expired"),
            ("1h", "ends within 1 hour"),
            ("1d", "ends within 1 day"),
            ("7d", "ends within 7 days"),
            ("none", "no expiry"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        if self.value() in self.WITHIN:
            return queryset.filter(
                expires_at__gt=now, expires_at__lte=now + self.WITHIN[self.value()]
            )
        if self.value() == "none":
            return queryset.filter(expires_at__isnull=True)
        return queryset


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VisibleCloudsMixin:
    """Rows of clouds the user may not see do not exist for them, as in the API."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(cloud__in=visible_clouds(request.user))


class InstanceEventInline(ReadOnlyMixin, admin.TabularInline):
    model = InstanceEvent
    extra = 0
    fields = ["started_at", "action", "actor", "result", "took", "error", "detail", "request_id"]
    readonly_fields = fields
    verbose_name_plural = "events (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-started_at", "-id")

    @admin.display(description="outcome")
    def result(self, event: InstanceEvent) -> str:
        return badge(event.outcome, OUTCOME_COLOURS.get(event.outcome, AMBER))

    @admin.display(description="took")
    def took(self, event: InstanceEvent) -> str:
        if event.finished_at is None:
            return "-"
        return f"{(event.finished_at - event.started_at).total_seconds():.1f} s"


@admin.register(Instance)
class InstanceAdmin(VisibleCloudsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "status_badge",
        "cloud",
        "role",
        "environment",
        "size",
        "created_by",
        "age",
        "expires_in",
    ]
    list_filter = ["status", "cloud", "role", "environment", "subnet", LeaseFilter]
    search_fields = ["name", "id", "provider_id", "tags"]
    inlines = [InstanceEventInline]
    list_select_related = ["cloud", "role", "environment", "size", "created_by"]
    actions = ["reboot_instances", "delete_instances", "extend_leases"]
    readonly_fields = ["status_badge", "age", "tasks", "user_data_shown", "expires_in"]
    fieldsets = [
        (None, {"fields": ["name", "cloud", "status_badge", "raw_status", "status_since"]}),
        ("At the provider", {"fields": ["provider_id", "public_ips", "private_ips"]}),
        (
            "Request",
            {
                "fields": [
                    "role",
                    "environment",
                    "size",
                    "image",
                    "subnet",
                    "provider_size_id",
                    "provider_image_id",
                    "provider_subnet_id",
                    "tags",
                    "ssh_keys",
                    "user_data_shown",
                    "extra",
                    "created_by",
                    "created_at",
                    "age",
                    "expires_at",
                    "expires_in",
                ]
            },
        ),
        (
            "Work",
            {
                "fields": [
                    "last_error",
                    "attempts",
                    "busy_until",
                    "inventory_synced",
                    "node_may_exist",
                    "acted_at",
                    "absent_since",
                    "task_entry",
                    "tasks",
                ]
            },
        ),
    ]

    @admin.display(description="status", ordering="status")
    def status_badge(self, instance: Instance) -> str:
        colour = STATUS_COLOURS.get(instance.status, AMBER)
        return badge(instance.status, colour, instance.last_error or instance.raw_status)

    @admin.display(description="user data")
    def user_data_shown(self, instance: Instance) -> str:
        """Never the user data itself: its digest and size, and whether PCM still holds it."""
        if not instance.user_data_sha256:
            return "-"
        held = "held encrypted" if instance.secrets_encrypted else "erased"
        return f"{instance.user_data_size} bytes, SHA-256 {instance.user_data_sha256} ({held})"

    @admin.display(description="age", ordering="-created_at")
    def age(self, instance: Instance) -> str:
        return timesince(instance.created_at)

    @admin.display(description="expires in", ordering="expires_at")
    def expires_in(self, instance: Instance) -> str:
        if instance.expires_at is None or instance.status == Status.DELETED:
            return "-"
        if instance.expires_at <= timezone.now():
            return "expired"
        return timeuntil(instance.expires_at)

    @admin.display(description="django-q2 tasks")
    def tasks(self, instance: Instance) -> str:
        # Task names end with the instance's id (instances/queue.py).
        return task_links(q=str(instance.pk))

    @admin.action(description="Reboot selected instances")
    def reboot_instances(self, request, queryset):
        self._operate(request, queryset.select_related("cloud"), "reboot")

    @admin.action(description="Delete selected instances (at the provider too)")
    def delete_instances(self, request, queryset):
        self._operate(request, queryset.select_related("cloud"), "delete")

    @admin.action(description=f"Extend the leases of selected instances by {human(EXTENSION)}")
    def extend_leases(self, request, queryset):
        """By EXTENSION from the later of now and the current expiry, cut to the maximum
        lease; instances without an expiry keep none."""
        now = timezone.now()
        instances = queryset.select_related("cloud", "role", "environment")
        for instance in instances.filter(expires_at__isnull=False):
            if not can_operate(request.user, instance.cloud):
                messages.error(
                    request, f"{instance.name}: you may only read cloud {instance.cloud.name}"
                )
                continue
            wanted = max(now, instance.expires_at) + EXTENSION
            longest, _ = maximum(instance.role, instance.environment)
            if longest is not None:
                wanted = min(wanted, now + longest)
            if wanted <= instance.expires_at:  # an extension never shortens
                messages.warning(request, f"{instance.name}: already at its maximum lease")
                continue
            try:
                done = instance_set_expiry(
                    instance=instance,
                    expires_at=wanted,
                    user=request.user,
                    request_id=getattr(request, "id", ""),
                )
            except PCMError as exc:
                messages.error(request, f"{instance.name}: {exc.message}")
            else:
                messages.success(request, f"{instance.name}: expires at {done.expires_at:%c} UTC")

    def _operate(self, request, instances, operation: str) -> None:
        """Each instance on its own: one that may not be touched says why, the others go on."""
        for instance in instances:
            if not can_operate(request.user, instance.cloud):
                messages.error(
                    request, f"{instance.name}: you may only read cloud {instance.cloud.name}"
                )
                continue
            try:
                done = OPERATIONS[operation](
                    instance=instance, user=request.user, request_id=getattr(request, "id", "")
                )
            except PCMError as exc:
                messages.error(request, f"{instance.name}: {exc.message}")
            else:
                messages.success(request, f"{instance.name}: {operation} requested ({done.status})")

    def get_urls(self):
        operate = self.admin_site.admin_view(self.operate_view)
        return [
            path(
                "<path:object_id>/operate/<str:operation>/",
                operate,
                name="instances_instance_operate",
            ),
            *super().get_urls(),
        ]

    def operate_view(self, request, object_id, operation):
        """The change page's buttons: one operation on one instance, then back to it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        instance = self.get_object(request, object_id)
        if instance is None or operation not in OPERATIONS:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        self._operate(request, [instance], operation)
        return HttpResponseRedirect(reverse("admin:instances_instance_change", args=[instance.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        instance = self.get_object(request, object_id)
        may_operate = instance is not None and can_operate(request.user, instance.cloud)
        extra_context = {**(extra_context or {}), "may_operate": may_operate}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Orphan)
class OrphanAdmin(VisibleCloudsMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Live nodes tagged by PCM that are no live instance's node (an unknown id, a deleted
    instance's, or a duplicate PCM did not destroy): delete them at the provider or find
    out where their row went."""

    list_display = [
        "provider_id",
        "name",
        "cloud",
        "pcm_id",
        "reason",
        "instance",
        "raw_status",
        "first_seen",
        "last_seen",
    ]
    list_filter = ["cloud", "reason"]
    list_select_related = ["cloud", "instance__cloud"]
    search_fields = ["provider_id", "name", "pcm_id"]


admin.site.unregister(Cloud)


@admin.register(Cloud)
class CloudAdmin(clouds_admin.CloudAdmin):
    """The configuration's cloud admin, plus what this app counts: quota usage (the count
    the quota check itself uses), instances, orphans, and the cloud's tasks."""

    list_display = [*clouds_admin.CloudAdmin.list_display, "usage"]
    readonly_fields = [*clouds_admin.CloudAdmin.readonly_fields, "usage", "rows", "tasks"]
    fieldsets = [
        *clouds_admin.CloudAdmin.fieldsets,
        ("Use, counted now", {"fields": ["usage", "rows", "tasks"]}),
    ]

    @admin.display(description="usage / quota")
    def usage(self, cloud: Cloud) -> str:
        if cloud.pk is None:
            return "-"
        used = cloud_usage(cloud)
        units = {"instances": "instances", "vcpus": "vCPUs", "ram_mb": "MB RAM"}
        return ", ".join(
            f"{used[key]} / {cloud.quotas[key]} {unit}"
            if cloud.quotas[key] is not None
            else f"{used[key]} {unit}"
            for key, unit in units.items()
        )

    @admin.display(description="instances and orphans")
    def rows(self, cloud: Cloud) -> str:
        if cloud.pk is None:
            return "-"
        links = []
        for model, noun in ((Instance, "instance"), (Orphan, "orphan")):
            count = model.objects.filter(cloud=cloud).count()
            url_name = f"admin:instances_{noun}_changelist"
            text = f"{count} {noun}{pluralize(count)}"
            links.append(_admin_link(url_name, text, cloud__id__exact=cloud.pk))
        return format_html_join(" · ", "{}", ((link,) for link in links))

    @admin.display(description="expires in", ordering="expires_at")
    def expires_in(self, instance: Instance) -> str:
        if instance.expires_at is None or instance.status == Status.DELETED:
            return "-"
        if instance.expires_at <= timezone.now():
            return "expired"
        return timeuntil(instance.expires_at)

    @admin.display(description="django-q2 tasks")
    def tasks(self, cloud: Cloud) -> str:
        if cloud.pk is None:
            return "-"
        # Names set in clouds/tasks.py and instances/tasks.py.
        return task_links(name__in=f"check cloud {cloud.pk},reconcile cloud {cloud.pk}")
