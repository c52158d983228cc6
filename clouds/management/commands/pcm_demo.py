"""`manage.py pcm_demo`: the demo configuration and an `admin` user, once.

Run by `make run`. It changes nothing that is already there: the demo configuration is
loaded only into a database without clouds, and the admin user is created only if missing.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command
from django.db import transaction
from rest_framework.authtoken.models import Token

from clouds.models import Cloud

# The demo clouds point at local emulators (moto, mimic), which accept any credentials.
DEMO_CREDENTIALS = {
    "SNV-LAB-1": {"username": "demo", "password": "demo"},
    "AWSLAB-1": {"access_key": "demo", "secret_key": "demo"},
}


class Command(BaseCommand):
    help = "Load the demo configuration into an empty database and create the admin user."

    def handle(self, *args, **options):
        with transaction.atomic():
            if Cloud.objects.exists():
                self.stdout.write("Clouds are configured already: demo configuration not loaded.")
            else:
                call_command("loaddata", "demo", verbosity=0)
                for cloud in Cloud.objects.filter(name__in=DEMO_CREDENTIALS):
                    cloud.credentials = DEMO_CREDENTIALS[cloud.name]
                    cloud.save(update_fields=["credentials_encrypted"])
                self.stdout.write(self.style.SUCCESS("Demo configuration loaded."))

            User = get_user_model()
            admin = User.objects.filter(username="admin").first()
            if admin is None:
                password = secrets.token_urlsafe(12)
                admin = User.objects.create_superuser("admin", "admin@localhost", password)
                self.stdout.write(
                    self.style.SUCCESS(f"Created user 'admin' with password: {password}")
                )
            else:
                self.stdout.write(
                    "User 'admin' exists; its password is unchanged "
                    "(manage.py changepassword admin sets a new one)."
                )
            token, _ = Token.objects.get_or_create(user=admin)
            self.stdout.write(f"API token of 'admin': {token.key}")
