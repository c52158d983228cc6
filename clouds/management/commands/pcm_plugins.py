"""`manage.py pcm_plugins [--reload]`: the provider plugins this PCM knows."""

from __future__ import annotations

from django.core.management import BaseCommand

from providers import docs, registry


class Command(BaseCommand):
    help = "List the provider plugins (built-in and from the pcm.providers entry points)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reload", action="store_true", help="Read the plugin list again first."
        )
        parser.add_argument(
            "--markdown", action="store_true", help="The reference of docs/providers.md."
        )

    def handle(self, *args, reload=False, markdown=False, **options):
        plugins = registry.reload() if reload else registry.plugins()
        if markdown:
            self.stdout.write(docs.markdown(plugins), ending="")
            return
        for key, plugin in sorted(plugins.items()):
            public = ", ".join(o.name for o in plugin.public_options()) or "-"
            secret = ", ".join(o.name for o in plugin.secret_options()) or "-"
            self.stdout.write(f"{key}: {plugin.label} ({plugin.__module__}.{plugin.__name__})")
            self.stdout.write(f"  options: {public}")
            self.stdout.write(f"  credentials: {secret}")
            self.stdout.write(f"  capabilities: {', '.join(sorted(plugin.capabilities))}")
