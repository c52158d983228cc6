"""The Django admin for PCM's configuration: where administrators edit everything."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse

from clouds.forms import (
    CloudForm,
    DatalistInput,
    ImageMappingForm,
    InventoryBackendForm,
    RoleForm,
    SizeMappingForm,
)
from clouds.models import (
    AbstractImage,
    AbstractSize,
    CatalogueItem,
    Cloud,
    CloudAccess,
    Environment,
    ImageMapping,
    InventoryBackend,
    Role,
    SizeMapping,
)
from clouds.services import MappingCheck, catalogue_sync, cloud_check
from providers import registry
from providers.base import ProviderError


def _with_checker(form_class):
    """The form class with one MappingCheck for this request (one listing per cloud)."""
    return type(form_class.__name__, (form_class,), {"checker": MappingCheck()})


def _report_warnings(request, forms) -> None:
    for form in forms:
        for warning in getattr(form, "warnings", []):
            messages.warning(request, warning)


class MappingInline(admin.TabularInline):
    extra = 0
    kind = ""

    def get_formset(self, request, obj=None, **kwargs):
        form = _with_checker(self.form)
        if obj is not None:
            items = obj.catalogue.filter(kind=self.kind)
            options = [(item.provider_id, item.name) for item in items]
            if options:
                widget = DatalistInput(options, list_id=f"catalogue-{obj.pk}-{self.kind}")
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


@admin.register(Cloud)
class CloudAdmin(admin.ModelAdmin):
    form = CloudForm
    list_display = [
        "name",
        "provider",
        "enabled",
        "last_check_ok",
        "last_check_at",
        "last_check_latency_ms",
        "max_vcpus",
        "quota_instances",
    ]
    list_filter = ["enabled", "provider", "last_check_ok"]
    search_fields = ["name", "description", "provider"]
    inlines = [SizeMappingInline, ImageMappingInline, CloudAccessInline]
    actions = ["test_connection", "sync_catalogue"]
    readonly_fields = [
        "credentials_stored",
        "capabilities",
        "last_check_at",
        "last_check_ok",
        "last_check_latency_ms",
        "last_check_error",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "description", "provider", "enabled", "capabilities"]}),
        ("Connection", {"fields": ["options", "credentials", "credentials_stored"]}),
        ("Largest instance", {"fields": ["max_vcpus", "max_ram_mb", "max_disk_gb"]}),
        ("Quotas", {"fields": ["quota_instances", "quota_vcpus", "quota_ram_mb"]}),
        ("Defaults", {"fields": ["default_environment", "default_size", "default_image"]}),
        ("Placement", {"fields": ["inventory", "placement_group"]}),
        (
            "Reachability (Test connection, and every 5 minutes)",
            {
                "fields": [
                    "last_check_at",
                    "last_check_ok",
                    "last_check_latency_ms",
                    "last_check_error",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="credentials stored", boolean=True)
    def credentials_stored(self, cloud: Cloud) -> bool:
        return bool(cloud.credentials_encrypted)

    @admin.display(description="capabilities")
    def capabilities(self, cloud: Cloud) -> str:
        return ", ".join(cloud.capabilities) or "-"

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        _report_warnings(request, formset.forms)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for cloud in queryset:
            result = cloud_check(cloud=cloud)
            if result.ok:
                self.message_user(
                    request, f"{cloud.name}: reachable in {result.latency_ms} ms", messages.SUCCESS
                )
            else:
                self.message_user(request, f"{cloud.name}: {result.error}", messages.ERROR)

    @admin.action(description="Sync catalogue (the provider's sizes and images)")
    def sync_catalogue(self, request, queryset):
        for cloud in queryset:
            try:
                synced = catalogue_sync(cloud=cloud)
            except ProviderError as exc:
                self.message_user(request, f"{cloud.name}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{cloud.name}: {synced.sizes} sizes and {synced.images} images fetched",
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
        return _with_checker(super().get_form(request, obj, **kwargs))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _report_warnings(request, [form])


@admin.register(SizeMapping)
class SizeMappingAdmin(MappingAdmin):
    form = SizeMappingForm
    list_display = ["size", "cloud", "provider_size_id"]
    list_filter = ["cloud", "size"]
    search_fields = ["provider_size_id", "size__name", "cloud__name"]


@admin.register(ImageMapping)
class ImageMappingAdmin(MappingAdmin):
    form = ImageMappingForm
    list_display = ["image", "cloud", "provider_image_id"]
    list_filter = ["cloud", "image"]
    search_fields = ["provider_image_id", "image__name", "cloud__name"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ["name", "default_size", "default_image", "spread_over_hosts"]
    list_filter = ["spread_over_hosts", "allowed_sizes", "allowed_images"]
    search_fields = ["name", "description"]
    filter_horizontal = ["allowed_sizes", "allowed_images"]


@admin.register(InventoryBackend)
class InventoryBackendAdmin(admin.ModelAdmin):
    form = InventoryBackendForm
    list_display = ["name", "plugin", "description"]
    list_filter = ["plugin"]
    search_fields = ["name", "description"]
    readonly_fields = ["credentials_stored"]
    fields = ["name", "description", "plugin", "options", "credentials", "credentials_stored"]

    @admin.display(description="credentials stored", boolean=True)
    def credentials_stored(self, backend: InventoryBackend) -> bool:
        return bool(backend.credentials_encrypted)


@admin.register(CloudAccess)
class CloudAccessAdmin(admin.ModelAdmin):
    """Which groups may read or operate which clouds (no cloud: every cloud)."""

    list_display = ["group", "cloud", "level"]
    list_filter = ["level", "cloud", "group"]
    search_fields = ["group__name", "cloud__name"]
