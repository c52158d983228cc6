"""The Django admin for PCM's configuration: where administrators edit everything."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin

from clouds import crypto
from clouds.models import (
    AbstractImage,
    AbstractSize,
    Cloud,
    Environment,
    ImageMapping,
    Role,
    SizeMapping,
)
from providers import registry
from providers.base import ConfigError


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value, not even the one just submitted."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


def _plugin_help() -> str:
    lines = []
    for key, plugin in sorted(registry.plugins().items()):
        public = ", ".join(o.name for o in plugin.public_options()) or "none"
        secret = ", ".join(o.name for o in plugin.secret_options()) or "none"
        lines.append(f"{key}: options {public}; credentials {secret}")
    return " | ".join(lines)


class CloudForm(forms.ModelForm):
    provider = forms.ChoiceField(choices=registry.choices)
    credentials = forms.CharField(
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text='A JSON object, e.g. {"access_key": "...", "secret_key": "..."}. Stored '
        "encrypted and never shown again: leave blank to keep the stored credentials.",
    )

    class Meta:
        model = Cloud
        fields = [
            "name",
            "description",
            "provider",
            "enabled",
            "options",
            "max_vcpus",
            "max_ram_mb",
            "max_disk_gb",
            "quota_instances",
            "quota_vcpus",
            "quota_ram_mb",
            "default_environment",
            "default_size",
            "default_image",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["options"].help_text = "A JSON object. " + _plugin_help()
        self.new_credentials: dict | None = None

    def clean(self):
        cleaned = super().clean()
        try:
            plugin = registry.get(cleaned.get("provider", ""))
        except registry.UnknownProvider:
            return cleaned  # the provider field already carries the error
        raw = (cleaned.get("credentials") or "").strip()
        try:
            if raw:
                try:
                    given = json.loads(raw)
                except json.JSONDecodeError as exc:
                    # The position only: the message must not echo a secret back.
                    raise forms.ValidationError(
                        f"Not valid JSON (line {exc.lineno}, column {exc.colno})"
                    ) from None
                self.new_credentials = plugin.validate_credentials(given)
            else:
                plugin.validate_credentials(self.instance.credentials if self.instance.pk else {})
        except ConfigError as exc:
            self.add_error("credentials", [f"{k}: {v}" for k, v in exc.errors.items()])
        except crypto.DecryptionError as exc:
            self.add_error("credentials", f"{exc}; enter the credentials again")
        except forms.ValidationError as exc:
            self.add_error("credentials", exc)
        return cleaned

    def save(self, commit=True):
        if self.new_credentials is not None:
            self.instance.credentials = self.new_credentials
        return super().save(commit)


class SizeMappingInline(admin.TabularInline):
    model = SizeMapping
    extra = 0


class ImageMappingInline(admin.TabularInline):
    model = ImageMapping
    extra = 0


@admin.register(Cloud)
class CloudAdmin(admin.ModelAdmin):
    form = CloudForm
    list_display = ["name", "provider", "enabled", "max_vcpus", "quota_instances", "updated_at"]
    list_filter = ["enabled", "provider"]
    search_fields = ["name", "description", "provider"]
    inlines = [SizeMappingInline, ImageMappingInline]
    readonly_fields = [
        "credentials_stored",
        "last_check_at",
        "last_check_ok",
        "last_check_latency_ms",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "description", "provider", "enabled"]}),
        ("Connection", {"fields": ["options", "credentials", "credentials_stored"]}),
        ("Largest instance", {"fields": ["max_vcpus", "max_ram_mb", "max_disk_gb"]}),
        ("Quotas", {"fields": ["quota_instances", "quota_vcpus", "quota_ram_mb"]}),
        ("Defaults", {"fields": ["default_environment", "default_size", "default_image"]}),
        (
            "Reachability",
            {"fields": ["last_check_at", "last_check_ok", "last_check_latency_ms"]},
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="credentials stored", boolean=True)
    def credentials_stored(self, cloud: Cloud) -> bool:
        return bool(cloud.credentials_encrypted)


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


@admin.register(SizeMapping)
class SizeMappingAdmin(admin.ModelAdmin):
    list_display = ["size", "cloud", "provider_size_id"]
    list_filter = ["cloud", "size"]
    search_fields = ["provider_size_id", "size__name", "cloud__name"]


@admin.register(ImageMapping)
class ImageMappingAdmin(admin.ModelAdmin):
    list_display = ["image", "cloud", "provider_image_id"]
    list_filter = ["cloud", "image"]
    search_fields = ["provider_image_id", "image__name", "cloud__name"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description"]


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = [
            "name",
            "description",
            "allowed_sizes",
            "allowed_images",
            "default_size",
            "default_image",
            "spread_over_hosts",
        ]

    def clean(self):
        cleaned = super().clean()
        for default, allowed in (
            ("default_size", "allowed_sizes"),
            ("default_image", "allowed_images"),
        ):
            value, choices = cleaned.get(default), cleaned.get(allowed)
            if value and choices and value not in choices:
                self.add_error(default, f"Must be one of the role's {allowed.replace('_', ' ')}")
        return cleaned


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleForm
    list_display = ["name", "default_size", "default_image", "spread_over_hosts"]
    list_filter = ["spread_over_hosts", "allowed_sizes", "allowed_images"]
    search_fields = ["name", "description"]
    filter_horizontal = ["allowed_sizes", "allowed_images"]
