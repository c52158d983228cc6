"""Provider plugins by key: PCM's built-ins plus those other packages register under the
Python entry point group `pcm.providers` (name = key, value = the Provider subclass).

The list is read on first use and again after `reload()`, so a newly installed plugin
is found without restarting PCM.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from providers.base import Provider

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "pcm.providers"

BUILTIN = {
    "ec2": "providers.ec2.EC2Provider",
    "openstack": "providers.openstack.OpenStackProvider",
    "libvirt": "providers.libvirt.LibvirtProvider",
    "gce": "providers.gce.GCEProvider",
    "azure_arm": "providers.azure_arm.AzureProvider",
}


class UnknownProvider(KeyError):
    def __init__(self, key: str, known: list[str]):
        self.key = key
        self.known = known
        super().__init__(f"Unknown provider plugin {key!r}; known: {', '.join(known) or 'none'}")

    def __str__(self) -> str:
        return self.args[0]


class DuplicateProvider(RuntimeError):
    pass


_plugins: dict[str, type[Provider]] | None = None


def _import(path: str) -> type[Provider]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _load() -> dict[str, type[Provider]]:
    found: dict[str, type[Provider]] = {}

    def add(cls: object, origin: str) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Provider) and cls.key):
            logger.error("Ignoring provider plugin %s: not a Provider subclass with a key", origin)
            return
        if cls.key in found:
            raise DuplicateProvider(
                f"Provider key {cls.key!r} from {origin} is already taken by {found[cls.key]!r}"
            )
        found[cls.key] = cls

    for path in BUILTIN.values():
        add(_import(path), path)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry_point.load()
        except Exception:
            # One broken third-party package must not take every cloud down with it.
            logger.exception("Cannot load provider plugin %s", entry_point.value)
            continue
        add(cls, entry_point.value)
    return found


def plugins() -> dict[str, type[Provider]]:
    global _plugins
    if _plugins is None:
        _plugins = _load()
    return _plugins


def reload() -> dict[str, type[Provider]]:
    """Read the plugin list again (after installing or removing a plugin package)."""
    global _plugins
    _plugins = None
    return plugins()


def get(key: str) -> type[Provider]:
    try:
        return plugins()[key]
    except KeyError:
        raise UnknownProvider(key, sorted(plugins())) from None


def choices() -> list[tuple[str, str]]:
    return sorted((key, cls.label) for key, cls in plugins().items())
