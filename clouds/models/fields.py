"""The fields the configuration's models share: names and limits."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

# Names appear in URLs (/clouds/SNV-LAB-1) and in Inventory names (dev-web-001).
name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    "Use letters, digits, '.', '_' and '-', starting with a letter or a digit.",
)


def name_field(**kwargs) -> models.CharField:
    return models.CharField(max_length=64, unique=True, validators=[name_validator], **kwargs)


# Far above any real machine or cloud, and within every database's integer.
ABSURD = 1_000_000_000
SANE = [MinValueValidator(1), MaxValueValidator(ABSURD)]


def limit_field(help_text: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(null=True, blank=True, validators=SANE, help_text=help_text)
