"""`manage.py pcm_demo`: the demo configuration and an `admin` user, once; a fresh API key.

Run by `make run`. It changes nothing that is already there: the demo configuration is
loaded only into a database without clouds, and the admin user is created only if missing.
Only the admin's demo token is made anew each time (its key cannot be shown again).
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command
from django.db import transaction

from clouds.models import Cloud
from clouds.services import catalogue_sync, cloud_check, mappings_check, provider_for
from pcm.models import ApiToken
from pcm.tokens import create_token
from providers.base import ProviderError

# The demo clouds point at local emulators (moto, mimic), which accept any credentials.
DEMO_CREDENTIALS = {
    "SNV-LAB-1": {"username": "demo", "password": "demo"},
    "AWSLAB-1": {"access_key": "demo", "secret_key": "demo"},
}
# mimic invents new image ids each time it starts, moto new subnet ids: the demo finds its
# images by name, and moto's default subnet by its zone.
MOTO_SUBNET_ZONE = "us-east-1a"
DEMO_TOKEN = "make run"  # noqa: S105 (the name of the admin's token that each run replaces)
MIMIC_IMAGES = {
    "centos-9": "CentOS 7 (PVHVM)",
    "ubuntu-22.04": "Ubuntu 14.04 LTS (Trusty Tahr) (PVHVM)",
}


class Command(BaseCommand):
    help = "Load the demo configuration into an empty database and create the admin user."

    def add_arguments(self, parser):
        parser.add_argument(
            "--map-peer-ids",
            action="store_true",
            help="Point SNV-LAB-1's image mappings at the images of the mimic it uses now, "
            "and AWSLAB-1's subnet mapping at the default subnet of the moto it uses now.",
        )
        parser.add_argument(
            "--check-clouds",
            action="store_true",
            help="Check each demo cloud and sync its catalogue now, so that the first page "
            "shows whether it is reachable and which mappings it knows (the clouds' "
            "emulators must be running).",
        )

    def handle(self, *args, map_peer_ids=False, check_clouds=False, **options):
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
            ApiToken.objects.filter(user=admin, name=DEMO_TOKEN).delete()
            _, key = create_token(admin, name=DEMO_TOKEN)  # scripts/fuzz.sh reads the line below
            self.stdout.write(f"API token of 'admin': {key}")
        if map_peer_ids:
            self.map_mimic_images()
            self.map_moto_subnet()
        if check_clouds:
            self.check_clouds()

    def check_clouds(self) -> None:
        for cloud in Cloud.objects.filter(name__in=DEMO_CREDENTIALS).order_by("name"):
            checked = cloud_check(cloud=cloud)
            if not checked.ok:
                self.stdout.write(f"{cloud.name} cannot be reached: {checked.error}")
                continue
            said = f"{cloud.name} answers in {checked.latency_ms} ms"
            try:
                synced = catalogue_sync(cloud=cloud)
                said += f"; its catalogue: {synced.sizes} sizes, {synced.images} images"
                mapped, missing = mappings_check(cloud=cloud)
                said += f"; {mapped - len(missing)} of its {mapped} mappings are found there."
            except ProviderError as exc:
                said += f"; it could not tell all it was asked: {exc.message[:120]}"
            self.stdout.write(said)

    def map_mimic_images(self) -> None:
        cloud = Cloud.objects.filter(name="SNV-LAB-1", provider="openstack").first()
        if cloud is None:
            return
        try:
            images = {image.name: image.id for image in provider_for(cloud).list_images()}
        except ProviderError as exc:
            self.stdout.write(f"SNV-LAB-1's images were not mapped: {exc.message}")
            return
        for mapping in cloud.image_mappings.select_related("image"):
            wanted = MIMIC_IMAGES.get(mapping.image.name)
            if wanted in images and mapping.provider_image_id != images[wanted]:
                mapping.provider_image_id = images[wanted]
                mapping.save(update_fields=["provider_image_id"])
        self.stdout.write("SNV-LAB-1's images are mapped to the running mimic's.")

    def map_moto_subnet(self) -> None:
        cloud = Cloud.objects.filter(name="AWSLAB-1", provider="ec2").first()
        mapping = cloud.subnet_mappings.first() if cloud else None
        if mapping is None:
            return
        try:
            driver = provider_for(cloud).driver
            subnets = driver.ex_list_subnets(filters={"default-for-az": "true"})
        except Exception as exc:  # the demo goes on without it, and says so
            self.stdout.write(f"AWSLAB-1's subnet was not mapped: {exc}")
            return
        zone = [s for s in subnets if s.extra.get("zone") == MOTO_SUBNET_ZONE] or subnets
        if zone and mapping.provider_subnet_id != zone[0].id:
            mapping.provider_subnet_id = zone[0].id
            mapping.save(update_fields=["provider_subnet_id"])
        self.stdout.write(f"AWSLAB-1's subnet is the running moto's default in {MOTO_SUBNET_ZONE}.")
