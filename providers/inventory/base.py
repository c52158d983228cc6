"""The interface of an Inventory backend."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from providers import outbound, telemetry
from providers.options import Configurable

OPERATIONS = ("reserve", "release", "register", "unregister")


class InventoryError(Exception):
    """The Inventory failed; `transient`: the same call may succeed later."""

    def __init__(self, message: str, *, transient: bool):
        self.message = message
        self.transient = transient
        super().__init__(message)


@dataclass(frozen=True)
class SystemRecord:
    """What PCM tells the Inventory about a system once its instance exists."""

    cloud: str
    name: str
    pcm_id: str
    role: str = ""
    environment: str = ""
    size: str = ""
    image: str = ""
    provider_id: str = ""
    status: str = ""
    ips: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ips": list(self.ips)}


class Inventory(Configurable):
    """Base of every Inventory backend, built from plain data like a compute plugin.

    Each operation a backend defines is timed, counted and logged (providers/telemetry.py)
    without the backend doing anything: `__init_subclass__` wraps it, so that a
    third-party backend is observed like the built-in ones.
    """

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for operation in OPERATIONS:
            if operation in cls.__dict__:
                setattr(cls, operation, _observed(operation, cls.__dict__[operation]))

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        outbound_policy: outbound.Policy | None = None,
    ):
        self.settings = dict(settings)
        self.credentials = dict(credentials)
        # Where a backend that connects out may connect (None: the site's default policy).
        self.outbound_policy = outbound_policy

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} {self.settings!r}>"

    def reserve(self, *, cloud: str, role: str, environment: str, pcm_id: str) -> str:
        """A new name for an instance, held for it until registered or released."""
        raise NotImplementedError

    def release(self, *, cloud: str, name: str) -> None:
        """Give back a reserved name whose instance was never created (idempotent)."""
        raise NotImplementedError

    def register(self, record: SystemRecord) -> None:
        """Record (or update) the system once its instance exists (idempotent)."""
        raise NotImplementedError

    def unregister(self, *, cloud: str, name: str) -> None:
        """Remove the system after its instance is deleted (idempotent)."""
        raise NotImplementedError


def _observed(operation: str, method: Callable) -> Callable:
    @functools.wraps(method)
    def call(self: Inventory, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            result = method(self, *args, **kwargs)
        except Exception as exc:
            error = getattr(exc, "message", "") or type(exc).__name__
            telemetry.inventory_call(self.key, operation, started, error)
            raise
        telemetry.inventory_call(self.key, operation, started)
        return result

    return call
