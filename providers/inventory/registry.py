"""Inventory backends by key (built-ins and the entry point group `pcm.inventory`)."""

from providers.inventory.base import Inventory
from providers.registry import Registry

inventories = Registry(
    "pcm.inventory",
    {
        "builtin": "providers.inventory.builtin.BuiltinInventory",
        "http": "providers.inventory.http.HttpInventory",
    },
    Inventory,
    "Inventory backend",
)
