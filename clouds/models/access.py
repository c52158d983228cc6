"""Which groups may see and act on which clouds."""

from __future__ import annotations

from django.db import models

from clouds.models.cloud import Cloud


class CloudAccess(models.Model):
    """A group's access to a cloud (or, with no cloud, to every cloud). Users see only the
    clouds their groups are granted; superusers see all."""

    class Level(models.TextChoices):
        READ = "read", "read-only"
        OPERATE = "operate", "operator"

    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="cloud_access")
    cloud = models.ForeignKey(
        Cloud,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access",
        help_text="Blank: every cloud",
    )
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.READ)

    class Meta:
        verbose_name_plural = "cloud access"
        constraints = [
            models.UniqueConstraint(fields=["group", "cloud"], name="unique_access_per_group")
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.get_level_display()} on {self.cloud or 'every cloud'}"
