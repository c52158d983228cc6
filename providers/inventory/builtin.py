"""PCM's own Inventory: names from a template, records in PCM's database."""

from __future__ import annotations

import string

from django.db import IntegrityError, transaction

from providers.inventory.base import Inventory, InventoryError, SystemRecord
from providers.inventory.models import NameSequence
from providers.inventory.models import SystemRecord as Record
from providers.options import ConfigError, Option

DEFAULT_TEMPLATE = "{environment}-{role}-{seq:03}"
FIELDS = {"cloud", "role", "environment", "seq"}


class _Placeholder:
    def __format__(self, spec: str) -> str:
        return "{seq}"


class BuiltinInventory(Inventory):
    """Names instances from a template such as `{environment}-{role}-{seq:03}` (fields:
    cloud, role, environment, seq; an instance without a role uses "node"). Each prefix has
    its own sequence, given out under a row lock, so concurrent creates never share a name.
    """

    key = "builtin"
    label = "Built-in (names from a template)"
    options = (Option("template", f"Name template (default {DEFAULT_TEMPLATE})"),)

    @classmethod
    def validate_options(cls, options):
        cleaned = super().validate_options(options)
        template = cleaned.get("template", DEFAULT_TEMPLATE)
        try:
            names = {field for _, field, _, _ in string.Formatter().parse(template) if field}
        except ValueError as exc:
            raise ConfigError({"template": f"not a valid template: {exc}"}) from None
        if "seq" not in names or not names <= FIELDS:
            raise ConfigError(
                {"template": f"use {{seq}} and only the fields {', '.join(sorted(FIELDS))}"}
            )
        return cleaned

    @property
    def template(self) -> str:
        return self.settings.get("template") or DEFAULT_TEMPLATE

    def reserve(self, *, cloud: str, role: str, environment: str, pcm_id: str) -> str:
        fields = {"cloud": cloud, "role": role or "node", "environment": environment}
        # The name with its number left out: one sequence per such prefix.
        prefix = self.template.format(seq=_Placeholder(), **fields)
        for _ in range(100):
            with transaction.atomic():
                sequence, _ = NameSequence.objects.select_for_update().get_or_create(prefix=prefix)
                sequence.last += 1
                sequence.save(update_fields=["last"])
                name = self.template.format(seq=sequence.last, **fields)
                try:
                    with transaction.atomic():
                        Record.objects.create(
                            cloud=cloud,
                            name=name,
                            pcm_id=pcm_id,
                            role=role,
                            environment=environment,
                        )
                except IntegrityError:
                    continue  # taken by hand or by an older template: try the next number
            return name
        raise InventoryError(f"No free name for {prefix} after 100 tries", transient=False)

    def release(self, *, cloud: str, name: str) -> None:
        Record.objects.filter(cloud=cloud, name=name, state=Record.State.RESERVED).delete()

    def register(self, record: SystemRecord) -> None:
        values = record.as_dict()
        values.update(state=Record.State.REGISTERED)
        Record.objects.update_or_create(
            cloud=values.pop("cloud"), name=values.pop("name"), defaults=values
        )

    def unregister(self, *, cloud: str, name: str) -> None:
        Record.objects.filter(cloud=cloud, name=name).delete()
