from django.db import migrations

SWEEP = "pcm: deliver due webhooks"


def schedule(apps, schema_editor):
    """Every minute, the deliveries whose retry is due (or whose first task was lost)."""
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=SWEEP,
        defaults={"func": "webhooks.tasks.deliver_due", "schedule_type": "I", "minutes": 1},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
