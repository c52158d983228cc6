"""Admin forms of the configuration: write-only credentials, plugin-validated options,
mappings checked at the provider."""

from __future__ import annotations

import json

from django import forms
from django.utils.html import format_html, format_html_join

from clouds import crypto
from clouds.models import Cloud, ImageMapping, InventoryBackend, Role, SizeMapping, SubnetMapping
from clouds.services import MappingCheck
from providers import registry
from providers.base import ConfigError, ProviderError
from providers.inventory.registry import inventories


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value, not even the one just submitted."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class DatalistInput(forms.TextInput):
    """A text input that suggests values (the cloud's catalogue) but accepts any."""

    def __init__(self, options: list[tuple[str, str]], list_id: str, attrs=None):
        super().__init__({**(attrs or {}), "list": list_id})
        self.options = options
        self.list_id = list_id

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join("", '<option value="{}">{}</option>', self.options)
        datalist = format_html('<datalist id="{}">{}</datalist>', self.list_id, options)
        return super().render(name, value, attrs, renderer) + datalist


def _plugin_help() -> str:
    lines = []
    for key, plugin in sorted(registry.plugins().items()):
        public = ", ".join(o.name for o in plugin.public_options()) or "none"
        secret = ", ".join(o.name for o in plugin.secret_options()) or "none"
        lines.append(f"{key}: options {public}; credentials {secret}")
    return " | ".join(lines)


def _extra_help() -> str:
    lines = []
    for key, plugin in sorted(registry.plugins().items()):
        declared = plugin.extra_declared()
        usual = ", ".join(k for k, p in sorted(declared.items()) if not p.privileged) or "none"
        privileged = ", ".join(k for k, p in sorted(declared.items()) if p.privileged)
        lines.append(f"{key}: {usual}" + (f" (privileged: {privileged})" if privileged else ""))
    return " | ".join(lines)


class CredentialsForm(forms.ModelForm):
    """A form for a model with a plugin and write-only, encrypted credentials."""

    plugin_field = "provider"
    credentials = forms.CharField(
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text='A JSON object, e.g. {"access_key": "...", "secret_key": "..."}. Stored '
        "encrypted and never shown again: leave blank to keep the stored credentials.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_credentials: dict | None = None

    def plugin_class(self, key: str):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        try:
            plugin = self.plugin_class(cleaned.get(self.plugin_field, ""))
        except registry.UnknownProvider:
            return cleaned  # the plugin field already carries the error
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


class CloudForm(CredentialsForm):
    provider = forms.ChoiceField(choices=registry.choices)

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
            "default_subnet",
            "inventory",
            "placement_group",
            "extra_allowed",
            "outbound_allow",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["options"].help_text = "A JSON object. " + _plugin_help()
        self.fields["extra_allowed"].help_text += ". " + _extra_help()

    def plugin_class(self, key: str):
        return registry.get(key)


class InventoryBackendForm(CredentialsForm):
    plugin_field = "plugin"
    plugin = forms.ChoiceField(choices=inventories.choices)

    class Meta:
        model = InventoryBackend
        fields = ["name", "description", "plugin", "options", "outbound_allow"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["options"].help_text = (
            'A JSON object. builtin: {"template": "{environment}-{role}-{seq:03}"}; '
            'http: {"base_url": "https://...", "timeout": 10}, credentials {"token": "..."}'
        )
        self.fields["credentials"].help_text = (
            'http: {"token": "..."}. Stored encrypted and never shown again: leave blank to '
            "keep the stored credentials."
        )

    def plugin_class(self, key: str):
        return inventories.get(key)


class MappingForm(forms.ModelForm):
    """A size or image mapping whose provider id is checked at the provider on save.

    A provider id the cloud does not know is refused; when the cloud cannot be asked
    (unreachable, no such listing), the save goes ahead and `warnings` says so. The outcome
    is kept on the mapping for the admin's lists.
    """

    kind = ""
    id_field = ""
    checker: MappingCheck | None = None  # one per admin request, set by the admin

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []

    def exists(self, checker: MappingCheck, cloud: Cloud, provider_id: str) -> bool:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        cloud = cleaned.get("cloud")
        provider_id = cleaned.get(self.id_field)
        unchanged = self.instance.pk and not self.has_changed()
        if not cloud or not provider_id or unchanged or cleaned.get("DELETE"):
            return cleaned
        if cloud.pk is None:
            self.warnings.append(
                f"{provider_id} was not checked at {cloud.name}: the cloud is new. "
                "Save it, then save its mappings again."
            )
            return cleaned
        try:
            exists = self.exists(self.checker or MappingCheck(), cloud, provider_id)
        except ProviderError as exc:
            self.instance.record_check(None)
            self.warnings.append(f"{provider_id} was not checked at {cloud.name}: {exc.message}")
            return cleaned
        self.instance.record_check(exists)
        if not exists:
            self.add_error(
                self.id_field,
                f"{cloud.name} has no {self.kind} {provider_id!r}. Its catalogue (Sync "
                "catalogue in the cloud list) shows what it offers.",
            )
        return cleaned


class SizeMappingForm(MappingForm):
    kind, id_field = "size", "provider_size_id"

    class Meta:
        model = SizeMapping
        fields = ["cloud", "size", "provider_size_id"]

    def exists(self, checker, cloud, provider_id):
        return checker.size_exists(cloud, provider_id)


class ImageMappingForm(MappingForm):
    kind, id_field = "image", "provider_image_id"

    class Meta:
        model = ImageMapping
        fields = ["cloud", "image", "provider_image_id"]

    def exists(self, checker, cloud, provider_id):
        return checker.image_exists(cloud, provider_id)


class SubnetMappingForm(MappingForm):
    kind, id_field = "subnet", "provider_subnet_id"

    class Meta:
        model = SubnetMapping
        fields = ["cloud", "subnet", "provider_subnet_id"]

    def exists(self, checker, cloud, provider_id):
        return checker.subnet_exists(cloud, provider_id)


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = [
            "name",
            "description",
            "allowed_sizes",
            "allowed_images",
            "allowed_subnets",
            "default_size",
            "default_image",
            "default_subnet",
            "spread_over_hosts",
        ]

    def clean(self):
        cleaned = super().clean()
        for default, allowed in (
            ("default_size", "allowed_sizes"),
            ("default_image", "allowed_images"),
            ("default_subnet", "allowed_subnets"),
        ):
            value, choices = cleaned.get(default), cleaned.get(allowed)
            if value and choices and value not in choices:
                self.add_error(default, f"Must be one of the role's {allowed.replace('_', ' ')}")
        return cleaned
