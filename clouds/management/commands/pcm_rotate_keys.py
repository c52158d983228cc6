"""`manage.py pcm_rotate_keys`: encrypt every stored credential with the newest key.

Rotation: put a new Fernet key first in PCM_ENCRYPTION_KEYS (keep the old ones after it),
restart, run this command, then drop the old keys.
"""

from __future__ import annotations

from django.core.management import BaseCommand
from django.db import transaction

from clouds import crypto
from clouds.models import Cloud, InventoryBackend


class Command(BaseCommand):
    help = "Re-encrypt all cloud and Inventory credentials with the first PCM_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for model in (Cloud, InventoryBackend):
                for row in model.objects.select_for_update().exclude(credentials_encrypted=""):
                    row.credentials_encrypted = crypto.rotate(row.credentials_encrypted)
                    row.save(update_fields=["credentials_encrypted"])
                    count += 1
        self.stdout.write(f"{count} credentials re-encrypted with the newest key.")
