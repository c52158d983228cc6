from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """The built-in Inventory's name sequences and system records."""

    name = "providers.inventory"
    label = "inventory"
    verbose_name = "Built-in Inventory"
