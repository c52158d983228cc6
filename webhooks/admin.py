"""Webhooks in the admin: subscriptions (a write-only secret) and every delivery."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from webhooks.models import Delivery, Subscription
from webhooks.services import redeliver


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    secret = forms.CharField(
        required=False,
        strip=False,
        min_length=16,
        widget=forms.PasswordInput(render_value=False),
        help_text="The key that signs each delivery; never shown. Leave blank to keep it.",
    )

    class Meta:
        model = Subscription
        fields = ["name", "url", "secret", "event_types", "clouds", "enabled", "outbound_allow"]

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if not secret and not self.instance.secret_encrypted:
            raise forms.ValidationError("A new subscription needs a secret")
        return secret

    def save(self, commit: bool = True):
        if self.cleaned_data.get("secret"):
            self.instance.secret = self.cleaned_data["secret"]
        return super().save(commit)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "url", "enabled", "event_types"]
    list_filter = ["enabled"]
    search_fields = ["name", "url"]
    filter_horizontal = ["clouds"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "subscription",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "duration_ms",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "subscription", "event__type"]
    list_select_related = ["subscription", "event"]
    readonly_fields = [field.name for field in Delivery._meta.fields] + ["payload"]
    actions = ["redeliver_selected"]

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.display(description="payload")
    def payload(self, delivery: Delivery):
        return delivery.event.payload

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Deliver the selected events again", permissions=["view"])
    def redeliver_selected(self, request, queryset) -> None:
        count = redeliver(queryset)
        self.message_user(request, f"{count} deliveries queued again", messages.SUCCESS)
