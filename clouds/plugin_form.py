"""An admin form for a model configured by a plugin (a cloud, an Inventory backend): the
chosen plugin's declared options become fields of their own, its credentials password fields
that never show a value ("leave blank to keep")."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from clouds import crypto
from providers import registry
from providers.base import ConfigError
from providers.options import Option

OPTION, CREDENTIAL = "option__", "credential__"
KEEP = "Stored encrypted and never shown: leave blank to keep the stored value."


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value, not even the one just submitted."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class DefaultBooleanSelect(forms.NullBooleanSelect):
    """Yes, no, or the plugin's default (the option left out)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "(default)"), ("true", "Yes"), ("false", "No")]


def option_field(option: Option) -> forms.Field:
    """The form field of a public option; the plugin's own validation runs on save."""
    common = {"label": option.name, "help_text": option.help, "required": option.required}
    if option.choices:
        choices = [("", "---------"), *((choice, choice) for choice in option.choices)]
        return forms.ChoiceField(choices=choices, **common)
    if option.kind == "int":
        return forms.IntegerField(**common)
    if option.kind == "bool":
        return forms.NullBooleanField(widget=DefaultBooleanSelect, **{**common, "required": False})
    if option.kind == "json":
        help_text = f"{option.help} (JSON)" if option.help else "JSON"
        widget = forms.Textarea(attrs={"rows": 3})
        return forms.JSONField(widget=widget, **{**common, "help_text": help_text})
    if option.kind == "text":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    widget = forms.URLInput if option.kind == "url" else forms.TextInput
    return forms.CharField(widget=widget(attrs={"size": 60}), **common)


def credential_field(option: Option) -> forms.Field:
    """A credential's field: always optional here, as blank keeps the stored value."""
    attrs = {"autocomplete": "off"}
    if option.kind in ("text", "json"):  # a password input drops line breaks (a PEM key)
        widget = WriteOnlyTextarea(attrs={**attrs, "rows": 3})
    else:
        widget = forms.PasswordInput(attrs={**attrs, "size": 60}, render_value=False)
    required = " Required." if option.required else ""
    help_text = f"{option.help}.{required} {KEEP}" if option.help else f"{required} {KEEP}"
    return forms.CharField(
        label=option.name, help_text=help_text.strip(), required=False, widget=widget
    )


class PluginConfigForm(forms.ModelForm):
    """A ModelForm for a model with a plugin key, options and encrypted credentials.

    The plugin is the one just submitted, else the one asked for in the page's URL
    (`?provider=ec2`: the page reloads so when the plugin is changed), else the stored one.
    """

    plugin_field = "provider"
    plugins: registry.Registry = registry.compute
    requested: dict[str, str] = {}  # the page's query string, set per request by the admin

    forget_credentials = forms.BooleanField(
        required=False,
        label="forget stored credentials",
        help_text="Keep only the credentials typed above (for an optional one to be removed)",
    )

    class Media:
        js = ["clouds/plugin_form.js"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.plugin_field].widget.attrs["data-plugin-select"] = ""
        key = self.chosen_key(self.data if self.is_bound else None, self.requested, self.instance)
        self.chosen_plugin = self.find_plugin(key)
        self.new_credentials: dict[str, Any] | None = None
        if self.chosen_plugin is None:
            return
        same = key == getattr(self.instance, self.plugin_field)
        stored = self.instance.options if same and isinstance(self.instance.options, dict) else {}
        for option in self.chosen_plugin.public_options():
            self.fields[OPTION + option.name] = option_field(option)
            self.initial.setdefault(OPTION + option.name, stored.get(option.name))
        for option in self.chosen_plugin.secret_options():
            self.fields[CREDENTIAL + option.name] = credential_field(option)
        if not self.is_bound:  # what was typed before the plugin changed (no secrets)
            for name, value in self.requested.items():
                if name in self.fields:
                    self.initial[name] = self._from_url(self.fields[name], value)

    @staticmethod
    def _from_url(field: forms.Field, value: str) -> Any:
        """A JSON field's initial value is data, not the text typed (which the URL holds)."""
        if not isinstance(field, forms.JSONField):
            return value
        try:
            return json.loads(value) if value.strip() else None
        except json.JSONDecodeError:
            return None

    @classmethod
    def chosen_key(cls, data, requested: dict, instance) -> str:
        if data is not None:
            return data.get(cls.plugin_field, "")
        return requested.get(cls.plugin_field) or getattr(instance, cls.plugin_field, "") or ""

    @classmethod
    def find_plugin(cls, key: str):
        try:
            return cls.plugins.get(key) if key else None
        except registry.UnknownProvider:
            return None

    @classmethod
    def plugin_field_names(cls, key: str) -> tuple[list[str], list[str]]:
        """The option fields and the credential fields the form has for plugin `key`."""
        plugin = cls.find_plugin(key)
        if plugin is None:
            return [], []
        return (
            [OPTION + option.name for option in plugin.public_options()],
            [CREDENTIAL + option.name for option in plugin.secret_options()],
        )

    def clean(self):
        cleaned = super().clean()
        if self.chosen_plugin is None or cleaned.get(self.plugin_field) != self.chosen_plugin.key:
            return cleaned  # the plugin field carries the error
        self._clean_options(cleaned)
        self._clean_credentials(cleaned)
        return cleaned

    def _clean_options(self, cleaned: dict) -> None:
        given = {
            option.name: cleaned.get(OPTION + option.name)
            for option in self.chosen_plugin.public_options()
            if OPTION + option.name not in self.errors
        }
        try:
            self.instance.options = self.chosen_plugin.validate_options(given)
        except ConfigError as exc:
            self._add_config_errors(OPTION, exc)

    def _clean_credentials(self, cleaned: dict) -> None:
        same = self.instance.pk and self.chosen_plugin.key == getattr(
            self.instance, self.plugin_field
        )
        stored: dict[str, Any] = {}
        if same and not cleaned.get("forget_credentials"):
            try:
                stored = self.instance.credentials
            except crypto.DecryptionError as exc:
                self.add_error(None, f"{exc}; enter the credentials again")
        typed = {
            option.name: cleaned[CREDENTIAL + option.name]
            for option in self.chosen_plugin.secret_options()
            if cleaned.get(CREDENTIAL + option.name)
        }
        # Only the plugin's own names: a stored key it no longer takes is left behind.
        declared = {option.name for option in self.chosen_plugin.secret_options()}
        merged = {k: v for k, v in stored.items() if k in declared} | typed
        try:
            credentials = self.chosen_plugin.validate_credentials(merged)
        except ConfigError as exc:
            self._add_config_errors(CREDENTIAL, exc)
            return
        if typed or not same or cleaned.get("forget_credentials"):
            self.new_credentials = credentials

    def _add_config_errors(self, prefix: str, exc: ConfigError) -> None:
        for name, message in exc.errors.items():
            field = prefix + name
            if field in self.fields:
                self.add_error(field, message)
            else:
                self.add_error(None, f"{name}: {message}")

    def _update_errors(self, errors):
        # The model checks the options again, under its field "options", which this form
        # has not: this form's own check has put those messages on their fields already.
        # Messages the form could not have found ("endpoint: resolves to ...", from the
        # outbound check after resolving) go on the option's field.
        if hasattr(errors, "error_dict") and "options" in errors.error_dict:
            messages = errors.error_dict.pop("options")
            if not any(name.startswith(OPTION) for name in self.errors):
                for message in messages:
                    text = " ".join(message.messages)
                    name, _, why = text.partition(": ")
                    if OPTION + name in self.fields and why:
                        self.add_error(OPTION + name, why)
                    else:
                        errors.error_dict.setdefault(NON_FIELD_ERRORS, []).append(message)
            if not errors.error_dict:
                return
        super()._update_errors(errors)

    def save(self, commit=True):
        if self.new_credentials is not None:
            self.instance.credentials = self.new_credentials
        return super().save(commit)
