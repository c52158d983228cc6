"""The admin side of clouds/plugin_form.py: fieldsets made of the chosen plugin's fields."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from clouds.plugin_form import CREDENTIAL, OPTION


class PluginConfigAdmin(admin.ModelAdmin):
    """A ModelAdmin whose form is a PluginConfigForm; `fieldsets` names "plugin fields"
    where the chosen plugin's options and credentials go."""

    PLACEHOLDER = "plugin fields"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if "fields" in kwargs:  # the plugin's fields are the form's own, not the model's
            kwargs["fields"] = [
                name for name in kwargs["fields"] if not name.startswith((OPTION, CREDENTIAL))
            ]
        form = super().get_form(request, obj, change, **kwargs)
        requested = request.GET.dict() if request.method == "GET" else {}
        return type(form.__name__, (form,), {"requested": requested})

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            if options.get("fields") == [self.PLACEHOLDER]:
                fieldsets.extend(self.plugin_fieldsets(request, obj))
            else:
                fieldsets.append((name, options))
        return fieldsets

    def plugin_fieldsets(self, request, obj) -> list[tuple[str, dict]]:
        if obj is not None and not self.has_change_permission(request, obj):
            return [("Connection", {"fields": ["stored_options", "credentials_stored"]})]
        form = self.form
        data = request.POST if request.method == "POST" else None
        key = form.chosen_key(data, request.GET, obj)
        plugin = form.find_plugin(key)
        if plugin is None:
            note = "Choose a plugin above: its options and credentials appear here."
            return [("Connection", {"fields": [], "description": note})]
        options, credentials = form.plugin_field_names(key)
        fieldsets = []
        if options:
            fieldsets.append((f"Options of {plugin.label}", {"fields": options}))
        if credentials:
            fields = [*credentials, "forget_credentials", "credentials_stored"]
            title = f"Credentials of {plugin.label} (encrypted, never shown again)"
            fieldsets.append((title, {"fields": fields}))
        return fieldsets

    @admin.display(description="credentials stored", boolean=True)
    def credentials_stored(self, obj) -> bool:
        return bool(obj.credentials_encrypted)

    @admin.display(description="options")
    def stored_options(self, obj) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.options, indent=2, sort_keys=True))
