from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    """Listed in INSTALLED_APPS only for its management commands; it has no models."""

    name = "providers"
