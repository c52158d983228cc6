"""Choices of the instances app."""

from django.db import models

from providers.status import Status

InstanceStatus = models.TextChoices("InstanceStatus", [(s.name, s.value) for s in Status])

# Statuses from which nothing will change without a client's action.
STABLE = frozenset({Status.RUNNING, Status.STOPPED, Status.ERROR, Status.DELETED})
# Statuses in which PCM's own work on the instance is under way.
TRANSITIONAL = frozenset(
    {Status.BUILDING, Status.REBOOTING, Status.STOPPING, Status.STARTING, Status.DELETING}
)

# What a client may PUT as `status`, and the action each one causes.
ACTIONS = {"reboot": "reboot", "stopped": "stop", "running": "start"}
ACTION_CHOICES = list(ACTIONS)


class Outcome(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
