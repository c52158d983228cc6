"""The Django admin for PCM's configuration: where administrators edit everything."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from clouds.forms import (
    CloudForm,
    DatalistInput,
    ImageMappingForm,
    InventoryBackendForm,
    RoleForm,
    SizeMappingForm,
    SubnetMappingForm,
)
from clouds.models import (
    AbstractImage,
    AbstractSize,
    AbstractSubnet,
    CatalogueItem,
    Cloud,
    CloudAccess,
    Environment,
    ImageMapping,
    InventoryBackend,
    Role,
    SizeMapping,
    SubnetMapping,
)
from clouds.plugin_admin import PluginConfigAdmin
from clouds.services import MappingCheck, catalogue_sync, cloud_check, mappings_check
from providers import registry
from providers.base import ProviderError

GREEN, AMBER, RED, GREY, PURPLE = "#2e7d32", "#a85d00", "#c62828", "#616161", "#6a1b9a"


def badge(text: str, colour: str, title: str = "") -> str:
    """A coloured label; its text says everything, so it reads without the colour too."""
    return format_html(
        '<span class="pcm-badge" title="{}" style="background:{};color:#fff;padding:1px 7px;'
        'border-radius:9px;white-space:nowrap">{}</span>',
        title,
        colour,
        text,
    )


@admin.display(description="at the provider", ordering="found_at_provider")
def found_at_provider(mapping: SizeMapping | ImageMapping | SubnetMapping) -> str:
    """The stored outcome of the last lookup: a list must not call the provider per row."""
    if mapping.found_at_provider is None:
        return badge("unknown", GREY, "Never checked, or the cloud could not tell")
    if mapping.found_at_provider:
        return badge("found", GREEN)
    return badge("not found", RED, "The provider does not offer this id (any more)")


def _with_checker(form_class):
    """The form class with one MappingCheck for this request (one listing per cloud)."""
    return type(form_class.__name__, (form_class,), {"checker": MappingCheck()})


def _report_warnings(request, forms) -> None:
    for form in forms:
        for warning in getattr(form, "warnings", []):
            messages.warning(request, warning)


def catalogue_label(item: CatalogueItem) -> str:
    """What a datalist shows beside an id (and what a browser's search matches too)."""
    details = [
        f"{value} {unit}"
        for value, unit in ((item.vcpus, "vCPUs"), (item.ram_mb, "MB RAM"), (item.disk_gb, "GB"))
        if value
    ]
    return f"{item.name} ({', '.join(details)})" if details else item.name


def catalogue_widget(cloud: Cloud, kind: str) -> DatalistInput | None:
    """The provider id's input, offering the cloud's synced catalogue of `kind`, if any."""
    items = cloud.catalogue.filter(kind=kind)
    options = [(item.provider_id, catalogue_label(item)) for item in items]
    if not options:
        return None
    return DatalistInput(options, list_id=f"catalogue-{cloud.pk}-{kind}")


class MappingInline(admin.TabularInline):
    extra = 0
    kind = ""
    readonly_fields = [found_at_provider, "checked_at"]

    def get_formset(self, request, obj=None, **kwargs):
        form = _with_checker(self.form)
        widget = catalogue_widget(obj, self.kind) if obj is not None else None
        if widget is not None:
            kwargs.setdefault("widgets", {})[form.id_field] = widget
        return super().get_formset(request, obj, form=form, **kwargs)


class CloudAccessInline(admin.TabularInline):
    model = CloudAccess
    extra = 0
    verbose_name_plural = "groups with access (read-only or operator)"


class SizeMappingInline(MappingInline):
    model = SizeMapping
    form = SizeMappingForm
    kind = CatalogueItem.Kind.SIZE


class ImageMappingInline(MappingInline):
    model = ImageMapping
    form = ImageMappingForm
    kind = CatalogueItem.Kind.IMAGE


class SubnetMappingInline(MappingInline):
    model = SubnetMapping
    form = SubnetMappingForm
    kind = CatalogueItem.Kind.SUBNET


@admin.register(Cloud)
class CloudAdmin(PluginConfigAdmin):
    form = CloudForm
    list_display = [
        "name",
        "provider",
        "enabled",
        "reachable",
        "last_check_at",
        "latency",
        "breaker",
    ]
    list_filter = ["enabled", "provider", "last_check_ok"]
    search_fields = ["name", "description", "provider"]
    inlines = [SizeMappingInline, ImageMappingInline, SubnetMappingInline, CloudAccessInline]
    actions = ["test_connection", "sync_catalogue", "check_mappings"]
    readonly_fields = [
        "credentials_stored",
        "stored_options",
        "capabilities",
        "reachable",
        "last_check_at",
        "latency",
        "last_check_error",
        "breaker",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "description", "provider", "enabled", "capabilities"]}),
        ("Connection", {"fields": [PluginConfigAdmin.PLACEHOLDER]}),
        ("Where PCM may connect", {"fields": ["outbound_allow"]}),
        ("Largest instance", {"fields": ["max_vcpus", "max_ram_mb", "max_disk_gb"]}),
        ("Quotas", {"fields": ["quota_instances", "quota_vcpus", "quota_ram_mb"]}),
        (
            "Defaults",
            {
                "fields": [
                    "default_environment",
                    "default_size",
                    "default_image",
                    "default_subnet",
                ]
            },
        ),
        ("Placement", {"fields": ["inventory", "placement_group"]}),
        ("Requests", {"fields": ["extra_allowed"]}),
        (
            "Reachability (Test connection, and every 5 minutes)",
            {
                "fields": [
                    "reachable",
                    "last_check_at",
                    "latency",
                    "last_check_error",
                    "breaker",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="capabilities")
    def capabilities(self, cloud: Cloud) -> str:
        return ", ".join(cloud.capabilities) or "-"

    @admin.display(description="reachable", ordering="last_check_ok")
    def reachable(self, cloud: Cloud) -> str:
        if cloud.last_check_ok is None:
            return badge("unknown", PURPLE, "Not checked yet")
        if cloud.last_check_ok:
            return badge("ok", GREEN)
        return badge("failed", RED, cloud.last_check_error)

    @admin.display(description="latency", ordering="last_check_latency_ms")
    def latency(self, cloud: Cloud) -> str:
        if cloud.last_check_latency_ms is None:
            return "-"
        return f"{cloud.last_check_latency_ms:.0f} ms"

    @admin.display(description="circuit breaker")
    def breaker(self, cloud: Cloud) -> str:
        """clouds/breaker.py's state, read from the row (no call to the cloud)."""
        until = cloud.breaker_open_until
        if until is None:
            failures = cloud.breaker_failures
            return f"closed ({failures} failures in a row)" if failures else "closed"
        if until > timezone.now():
            return badge(f"open until {timezone.localtime(until):%H:%M:%S}", RED)
        return badge("half-open: the next call decides", AMBER)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        _report_warnings(request, formset.forms)

    def changelist_view(self, request, extra_context=None):
        may_change = {"may_change_clouds": self.has_change_permission(request)}
        return super().changelist_view(request, {**(extra_context or {}), **may_change})

    # Each action calls the provider and writes what it found (check, catalogue, mappings):
    # for those who may change clouds, not for those who may only see them.
    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request, queryset):
        for cloud in queryset:
            result = cloud_check(cloud=cloud)
            if result.ok:
                self.message_user(
                    request, f"{cloud.name}: reachable in {result.latency_ms} ms", messages.SUCCESS
                )
            else:
                self.message_user(request, f"{cloud.name}: {result.error}", messages.ERROR)

    @admin.action(
        description="Sync catalogue (the provider's sizes, images and subnets)",
        permissions=["change"],
    )
    def sync_catalogue(self, request, queryset):
        for cloud in queryset:
            try:
                synced = catalogue_sync(cloud=cloud)
            except ProviderError as exc:
                self.message_user(request, f"{cloud.name}: {exc.message}", messages.ERROR)
            else:
                fetched = f"{synced.sizes} sizes, {synced.images} images"
                if synced.subnets is not None:
                    fetched += f" and {synced.subnets} subnets"
                self.message_user(request, f"{cloud.name}: {fetched} fetched", messages.SUCCESS)
                if synced.subnets_error:
                    self.message_user(
                        request,
                        f"{cloud.name}: subnets not listed: {synced.subnets_error}",
                        messages.WARNING,
                    )
                self._report_mappings(request, cloud)

    @admin.action(description="Check mappings at the provider", permissions=["change"])
    def check_mappings(self, request, queryset):
        for cloud in queryset:
            self._report_mappings(request, cloud)

    def _report_mappings(self, request, cloud: Cloud) -> None:
        try:
            checked, missing = mappings_check(cloud=cloud)
        except ProviderError as exc:
            self.message_user(
                request, f"{cloud.name}: mappings not checked: {exc.message}", messages.ERROR
            )
            return
        if missing:
            self.message_user(
                request,
                f"{cloud.name}: mapped but not offered by the provider: {', '.join(missing)}",
                messages.WARNING,
            )
        elif checked:
            self.message_user(
                request,
                f"{cloud.name}: all {checked} mappings are offered by the provider",
                messages.SUCCESS,
            )

    def get_urls(self):
        reload_view = self.admin_site.admin_view(self.reload_plugins)
        return [
            path("reload-plugins/", reload_view, name="clouds_cloud_reload_plugins"),
            *super().get_urls(),
        ]

    def reload_plugins(self, request):
        if not self.has_change_permission(request):
            messages.error(request, "You may not reload the provider plugins.")
        else:
            try:
                plugins = registry.reload()
            except registry.DuplicateProvider as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Provider plugins: {', '.join(sorted(plugins))}")
        return HttpResponseRedirect(reverse("admin:clouds_cloud_changelist"))


@admin.register(CatalogueItem)
class CatalogueItemAdmin(admin.ModelAdmin):
    """What the providers offer, as last synced; read-only."""

    list_display = ["provider_id", "name", "kind", "cloud", "vcpus", "ram_mb", "disk_gb"]
    list_filter = ["cloud", "kind"]
    search_fields = ["provider_id", "name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AbstractSize)
class AbstractSizeAdmin(admin.ModelAdmin):
    list_display = ["name", "vcpus", "ram_mb", "disk_gb", "description"]
    search_fields = ["name", "description"]
    list_filter = ["vcpus"]


@admin.register(AbstractImage)
class AbstractImageAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description"]
    list_filter = ["mappings__cloud"]


class MappingAdmin(admin.ModelAdmin):
    def get_form(self, request, obj=None, **kwargs):
        form = self.form
        cloud = obj.cloud if obj is not None else self._cloud_asked(request)
        widget = catalogue_widget(cloud, form.kind) if cloud is not None else None
        if widget is not None:
            kwargs.setdefault("widgets", {})[form.id_field] = widget
        return _with_checker(super().get_form(request, obj, **kwargs))

    @staticmethod
    def _cloud_asked(request) -> Cloud | None:
        """The cloud of a new mapping: the one submitted, or ?cloud=<id> in the page's URL."""
        pk = (request.POST if request.method == "POST" else request.GET).get("cloud", "")
        return Cloud.objects.filter(pk=pk).first() if pk.isdigit() else None

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _report_warnings(request, [form])


@admin.register(SizeMapping)
class SizeMappingAdmin(MappingAdmin):
    form = SizeMappingForm
    list_display = ["size", "cloud", "provider_size_id", found_at_provider, "checked_at"]
    list_filter = ["cloud", "size"]
    search_fields = ["provider_size_id", "size__name", "cloud__name"]


@admin.register(ImageMapping)
class ImageMappingAdmin(MappingAdmin):
    form = ImageMappingForm
    list_display = ["image", "cloud", "provider_image_id", found_at_provider, "checked_at"]
    list_filter = ["cloud", "image"]
    search_fields = ["provider_image_id", "image__name", "cloud__name"]


@admin.register(AbstractSubnet)
class AbstractSubnetAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description"]
    list_filter = ["mappings__cloud"]


@admin.register(SubnetMapping)
class SubnetMappingAdmin(MappingAdmin):
    form = SubnetMappingForm
    list_display = ["subnet", "cloud", "provider_subnet_id", found_at_provider, "checked_at"]
    list_filter = ["cloud", "subnet"]
    search_fields = ["provider_subnet_id", "subnet__name", "cloud__name"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "default_lease", "max_lease"]
    search_fields = ["name", "description"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = [
        "name",
        "default_size",
        "default_image",
        "default_subnet",
        "spread_over_hosts",
        "default_lease",
        "max_lease",
    ]
    list_filter = ["spread_over_hosts", "allowed_sizes", "allowed_images", "allowed_subnets"]
    search_fields = ["name", "description"]
    filter_horizontal = ["allowed_sizes", "allowed_images", "allowed_subnets"]


@admin.register(InventoryBackend)
class InventoryBackendAdmin(PluginConfigAdmin):
    form = InventoryBackendForm
    list_display = ["name", "plugin", "description"]
    list_filter = ["plugin"]
    search_fields = ["name", "description"]
    readonly_fields = ["credentials_stored", "stored_options"]
    fieldsets = [
        (None, {"fields": ["name", "description", "plugin"]}),
        ("Connection", {"fields": [PluginConfigAdmin.PLACEHOLDER]}),
        ("Where PCM may connect", {"fields": ["outbound_allow"]}),
    ]


@admin.register(CloudAccess)
class CloudAccessAdmin(admin.ModelAdmin):
    """Which groups may read or operate which clouds (no cloud: every cloud)."""

    list_display = ["group", "cloud", "level"]
    list_filter = ["level", "cloud", "group"]
    search_fields = ["group__name", "cloud__name"]
