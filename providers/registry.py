"""Provider plugins by key: PCM's built-ins plus those other packages register under the
Python entry point group `pcm.providers` (name = key, value = the Provider subclass).

The list is read on first use, again whenever a directory on the Python path changes (a
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
_fingerprint: tuple = ()


def _path_fingerprint() -> tuple:
    """The Python path with each directory's mtime: it changes when a package is added."""
    stamps = []
    for entry in sys.path:
        try:
            stamps.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            stamps.append((entry, None))
    return tuple(stamps)


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
    global _plugins, _fingerprint
    fingerprint = _path_fingerprint()
    if _plugins is None or fingerprint != _fingerprint:
        _plugins, _fingerprint = _load(), fingerprint
    return _plugins


def reload() -> dict[str, type[Provider]]:
    """Read the plugin list again, now."""
    global _plugins
    importlib.invalidate_caches()
    _plugins = None
    return plugins()


def get(key: str) -> type[Provider]:
    try:
        return plugins()[key]
    except KeyError:
        raise UnknownProvider(key, sorted(plugins())) from None


def choices() -> list[tuple[str, str]]:
    return sorted((key, cls.label) for key, cls in plugins().items())
