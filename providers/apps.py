from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from providers import outbound


def site_allowances() -> list[str]:
    """What the site lets every cloud and Inventory reach besides its own outbound_allow:
    PCM_OUTBOUND_ALLOW, and loopback in DEBUG (the demo's peers run on 127.0.0.1)."""
    return [*settings.PCM_OUTBOUND_ALLOW, *([outbound.LOOPBACK] if settings.DEBUG else [])]


def site_policy() -> outbound.Policy:
    """The policy of connections made for no cloud in particular (a bare plugin)."""
    return outbound.Policy.of(outbound.DEFAULT_ALLOW, site_allowances())


class ProvidersConfig(AppConfig):
    """Listed in INSTALLED_APPS for its management commands and to give the plugins the
    site's outbound policy; it has no models."""

    name = "providers"

    def ready(self) -> None:
        try:
            site_policy()
        except ValueError as exc:
            raise ImproperlyConfigured(f"PCM_OUTBOUND_ALLOW: {exc}") from None
        outbound.set_default(site_policy)
