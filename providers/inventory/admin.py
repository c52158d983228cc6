"""The built-in Inventory's records in the admin (read-only: PCM keeps them)."""

from django.contrib import admin

from providers.inventory.models import NameSequence, SystemRecord


@admin.register(SystemRecord)
class SystemRecordAdmin(admin.ModelAdmin):
    list_display = ["name", "cloud", "state", "role", "environment", "status", "provider_id"]
    list_filter = ["cloud", "state", "environment", "role"]
    search_fields = ["name", "pcm_id", "provider_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NameSequence)
class NameSequenceAdmin(admin.ModelAdmin):
    list_display = ["prefix", "last"]
    search_fields = ["prefix"]
