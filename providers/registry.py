"""Plugins by key: PCM's built-ins plus those other packages register under a Python entry
point group (name = key, value = the plugin class): `pcm.providers` for compute plugins,
`pcm.inventory` for Inventory backends (providers/inventory/).

A list is read on first use, again whenever a directory on the Python path changes (a
package was installed or removed there), and on demand with `reload()` (the admin's
"Reload plugins" and `manage.py pcm_plugins --reload`). A newly installed plugin is found
without a restart; a plugin whose code was upgraded in place needs one (Python keeps
modules it has imported).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from importlib.metadata import entry_points

from providers.base import Provider

logger = logging.getLogger(__name__)


class UnknownProvider(KeyError):
    def __init__(self, key: str, known: list[str], what: str = "provider plugin"):
        self.key = key
        self.known = known
        super().__init__(f"Unknown {what} {key!r}; known: {', '.join(known) or 'none'}")

    def __str__(self) -> str:
        return self.args[0]


class DuplicateProvider(RuntimeError):
    pass


def _path_fingerprint() -> tuple:
    """The Python path with each directory's mtime: it changes when a package is added."""
    stamps = []
    for entry in sys.path:
        try:
            stamps.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            stamps.append((entry, None))
    return tuple(stamps)


def _import(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class Registry:
    """One kind of plugin: built-ins by dotted path, plus an entry point group."""

    def __init__(self, group: str, builtin: dict[str, str], base: type, what: str):
        self.group = group
        self.builtin = builtin
        self.base = base
        self.what = what
        self._plugins: dict[str, type] | None = None
        self._fingerprint: tuple = ()

    def _load(self) -> dict[str, type]:
        found: dict[str, type] = {}

        def add(cls: object, origin: str) -> None:
            if not (isinstance(cls, type) and issubclass(cls, self.base) and cls.key):
                logger.error("Ignoring %s %s: not a %s with a key", self.what, origin, self.base)
                return
            if cls.key in found:
                raise DuplicateProvider(
                    f"Key {cls.key!r} from {origin} is already taken by {found[cls.key]!r}"
                )
            found[cls.key] = cls

        for path in self.builtin.values():
            add(_import(path), path)
        for entry_point in entry_points(group=self.group):
            try:
                cls = entry_point.load()
            except Exception:
                # One broken third-party package must not take every cloud down with it.
                logger.exception("Cannot load %s %s", self.what, entry_point.value)
                continue
            add(cls, entry_point.value)
        return found

    def plugins(self) -> dict[str, type]:
        fingerprint = _path_fingerprint()
        if self._plugins is None or fingerprint != self._fingerprint:
            self._plugins, self._fingerprint = self._load(), fingerprint
        return self._plugins

    def reload(self) -> dict[str, type]:
        """Read the plugin list again, now."""
        importlib.invalidate_caches()
        self._plugins = None
        return self.plugins()

    def get(self, key: str) -> type:
        try:
            return self.plugins()[key]
        except KeyError:
            raise UnknownProvider(key, sorted(self.plugins()), self.what) from None

    def choices(self) -> list[tuple[str, str]]:
        return sorted((key, cls.label) for key, cls in self.plugins().items())


compute = Registry(
    "pcm.providers",
    {
        "ec2": "providers.ec2.EC2Provider",
        "openstack": "providers.openstack.OpenStackProvider",
        "libvirt": "providers.libvirt.LibvirtProvider",
        "gce": "providers.gce.GCEProvider",
        "azure_arm": "providers.azure_arm.AzureProvider",
    },
    Provider,
    "provider plugin",
)

# The compute registry's functions, as the rest of PCM calls them.
plugins = compute.plugins
reload = compute.reload
get = compute.get
choices = compute.choices
ENTRY_POINT_GROUP = compute.group
