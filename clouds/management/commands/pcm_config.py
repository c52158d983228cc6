"""`manage.py pcm_config export|import`: the configuration as a YAML file, for review and
version control (docs/configuration.md). The work is done in clouds/config_io.py."""

from __future__ import annotations

import sys

from django.core.management import BaseCommand, CommandError

from clouds.config_io import ConfigFileError, export_config, import_config


class Command(BaseCommand):
    help = (
        "Export the configuration as YAML (Inventory backends, environments, sizes, images, "
        "clouds with their mappings, roles, cloud access; never credentials), or import such "
        "a file. See docs/configuration.md."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="Write the configuration as YAML.")
        export.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of standard output."
        )
        load = actions.add_parser(
            "import",
            help="Create or update the objects a YAML file names, in one transaction.",
            description=(
                "Create or update, by name, every object the file names, in one transaction: "
                "an invalid file changes nothing and the error gives its line. Objects not in "
                "the file, and keys not given for an object, are left as they are (there is "
                "no --prune: delete objects in the admin). Each object gets the admin's "
                "validation, but no provider is called: that a mapped provider id exists at "
                "the cloud is checked in the admin (save the mapping there, or Sync catalogue). "
                "A cloud the import creates has no credentials: enter them in the admin; a "
                "cloud it updates keeps its own."
            ),
        )
        load.add_argument("file", help="The YAML file ('-' for standard input).")
        load.add_argument(
            "--dry-run", action="store_true", help="Show what would change; change nothing."
        )

    def handle(self, *args, action, **options):
        if action == "export":
            self.export(options["output"])
        else:
            self.load(options["file"], dry_run=options["dry_run"])

    def export(self, output: str | None) -> None:
        text = export_config()
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}") from None

    def load(self, path: str, *, dry_run: bool) -> None:
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as file:
                    text = file.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        try:
            report = import_config(text, dry_run=dry_run)
        except ConfigFileError as exc:
            raise CommandError(f"{exc}\n{path}: nothing was changed.") from None
        for line in report.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
