"""Instances in the admin: for reading. What PCM records there (statuses, provider ids,
events) would lie if edited by hand, so it is read-only; actions go through the API."""

from __future__ import annotations

from django.contrib import admin

from instances.models import Instance, InstanceEvent, Orphan


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InstanceEventInline(ReadOnlyMixin, admin.TabularInline):
    model = InstanceEvent
    extra = 0
    fields = [
        "action",
        "actor",
        "outcome",
        "started_at",
        "finished_at",
        "error",
        "detail",
        "request_id",
    ]
    readonly_fields = fields


@admin.register(Instance)
class InstanceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "cloud",
        "status",
        "role",
        "environment",
        "size",
        "image",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "cloud", "role", "environment"]
    search_fields = ["name", "id", "provider_id"]
    inlines = [InstanceEventInline]
    list_select_related = ["cloud", "role", "environment", "size", "image", "created_by"]


@admin.register(Orphan)
class OrphanAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Nodes tagged by PCM that no instance row claims: delete them at the provider or
    find out where their row went."""

    list_display = [
        "provider_id",
        "name",
        "cloud",
        "pcm_id",
        "raw_status",
        "first_seen",
        "last_seen",
    ]
    list_filter = ["cloud"]
    search_fields = ["provider_id", "name", "pcm_id"]
