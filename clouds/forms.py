"""Admin forms of the configuration: clouds and Inventory backends with their plugin's own
fields (clouds/plugin_form.py), mappings checked at the provider."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join

from clouds.models import Cloud, ImageMapping, InventoryBackend, Role, SizeMapping, SubnetMapping
from clouds.plugin_form import PluginConfigForm
from clouds.services import MappingCheck
from providers import registry
from providers.base import ProviderError
from providers.inventory.registry import inventories


class DatalistInput(forms.TextInput):
    """A text input that suggests values (the cloud's catalogue) but accepts any.

    The list goes into the page once, beside the first input that renders it: every row of
    an inline refers to it by id, and a catalogue may hold thousands of images.
    """

    def __init__(self, options: list[tuple[str, str]], list_id: str, attrs=None):
        super().__init__({**(attrs or {}), "list": list_id})
        self.options = options
        self.list_id = list_id
        # Shared by the copies Django makes of a widget for each form of a formset (a
        # widget's deepcopy is shallow but for attrs).
        self.rendered = {"list": False}

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        if self.rendered["list"]:
            return html
        self.rendered["list"] = True
        options = format_html_join("", '<option value="{}">{}</option>', self.options)
        return html + format_html('<datalist id="{}">{}</datalist>', self.list_id, options)


def _extra_help(plugin) -> str:
    declared = plugin.extra_declared()
    usual = ", ".join(k for k, p in sorted(declared.items()) if not p.privileged) or "none"
    privileged = ", ".join(k for k, p in sorted(declared.items()) if p.privileged)
    return f"{plugin.key} takes: {usual}" + (f" (privileged: {privileged})" if privileged else "")


def _with_blank(choices):
    return lambda: [("", "---------"), *choices()]


class CloudForm(PluginConfigForm):
    provider = forms.ChoiceField(choices=_with_blank(registry.choices))

    class Meta:
        model = Cloud
        fields = [
            "name",
            "description",
            "provider",
            "enabled",
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
        if self.chosen_plugin is not None and "extra_allowed" in self.fields:  # not view-only
            self.fields["extra_allowed"].help_text += ". " + _extra_help(self.chosen_plugin)


class InventoryBackendForm(PluginConfigForm):
    plugin_field = "plugin"
    plugins = inventories
    plugin = forms.ChoiceField(choices=_with_blank(inventories.choices))

    class Meta:
        model = InventoryBackend
        fields = ["name", "description", "plugin", "outbound_allow"]


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
            "default_lease",
            "max_lease",
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
