"""The django-q2 schedule that ends leases each minute (instances/expiry.py)."""

from django.db import migrations

NAME = "pcm: expire leases"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=NAME,
        defaults={"func": "instances.tasks.expire_leases", "schedule_type": "I", "minutes": 1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("instances", "0006_instance_expiry")]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
