"""API tokens in the admin: listed, created (the key shown once) and revoked (deleted).

Neither the key nor its digest is ever shown: the list and the form name a token by its
prefix, the key's first 15 characters.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from pcm.models import ApiToken
from pcm.tokens import default_lifetime, is_expired, new_key


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "read_only", "expiry"]
        help_texts = {"expiry": "Empty: the token never expires."}

    def clean_expiry(self):
        expiry = self.cleaned_data["expiry"]
        if expiry is not None and expiry <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expiry


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "name", "read_only", "created", "expiry", "in_force"]
    list_filter = ["read_only"]
    search_fields = ["token_key", "name", "user__username"]
    list_select_related = ["user"]

    @admin.display(boolean=True, description="in force")
    def in_force(self, token: ApiToken) -> bool:
        return not is_expired(token)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ApiTokenAddForm.Meta.fields
        return ["user", "token_key", "name", "read_only", "created", "expiry"]

    def get_readonly_fields(self, request, obj=None):
        # A token's owner, scope and expiry are what it was made with: make another instead.
        return [] if obj is None else ["user", "token_key", "read_only", "created", "expiry"]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        return {**initial, "expiry": timezone.now() + default_lifetime()}

    def save_model(self, request, obj, form, change):
        key = None
        if not change:
            key, obj.digest, obj.token_key = new_key()
        super().save_model(request, obj, form, change)
        if key:
            self.message_user(
                request,
                f"The key of the new token, shown only now (PCM keeps only its digest): {key}",
                messages.WARNING,
            )
