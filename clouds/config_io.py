"""Configuration as code: the whole configuration as one YAML file, and back.

`export_config()` writes Inventory backends, environments, sizes, images, subnets, clouds
(with their size, image and subnet mappings), roles and cloud access. Objects refer to each
other by name, never by database id, and come in a fixed order: the same database always
gives the same bytes.

`import_config()` checks a file the way the admin checks its forms (each object's
`full_clean()`, and the admin's RoleForm for roles) and creates or updates every object it
names, in one transaction: an invalid file changes nothing, and its error names the line.
Objects absent from the file, and keys absent from an object, are left as they are. No
provider is called: whether a mapped provider id exists is checked in the admin.

Credentials are never written nor read: a cloud created by an import has none until an
administrator enters them in the admin, and an import that updates a cloud keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import yaml
from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.dateparse import parse_duration
from django.utils.duration import duration_iso_string

from clouds.forms import RoleForm
from clouds.models import (
    AbstractImage,
    AbstractSize,
    AbstractSubnet,
    Cloud,
    CloudAccess,
    Environment,
    ImageMapping,
    InventoryBackend,
    Role,
    SizeMapping,
    SubnetMapping,
)

VERSION = 1
HEADER = (
    "# PCM configuration (manage.py pcm_config export; see docs/configuration.md).\n"
    "# No credentials: enter them in the admin after an import creates a cloud.\n"
)


class ConfigFileError(Exception):
    """The file cannot be applied: a list of (line, message), one line of text each."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = sorted(problems)
        super().__init__("\n".join(f"line {line}: {message}" for line, message in self.problems))


# -- reading YAML with line numbers ------------------------------------------------------


class YamlMapping(dict):
    """A YAML mapping that remembers the line it starts on and the line of each key."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class YamlList(list):
    """A YAML sequence that remembers the line of each item."""

    def __init__(self):
        super().__init__()
        self.lines: list[int] = []


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, building YamlMapping and YamlList instead of dict and list."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode):
    mapping = YamlMapping(node.start_mark.line + 1)
    yield mapping
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise ConfigFileError([(line, f"{key!r}: a key must be text (quote it)")])
        if key in mapping:
            first = mapping.lines[key]
            raise ConfigFileError([(line, f"{key!r} appears twice (first on line {first})")])
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode):
    sequence = YamlList()
    yield sequence
    for item in node.value:
        sequence.append(loader.construct_object(item, deep=True))
        sequence.lines.append(item.start_mark.line + 1)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def _parse(text: str) -> YamlMapping:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigFileError([(line, f"not valid YAML: {exc.problem or exc.context}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigFileError([(1, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, YamlMapping):
        sections = ", ".join(kind.section for kind in KINDS)
        raise ConfigFileError([(1, f"expected a mapping of sections ({sections})")])
    return data


# -- the kinds of object in the file -----------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One section of the file: a model and the fields written for each of its rows.

    A foreign key is written as the other object's name, a many-to-many field as a sorted
    list of names, any other field as it is. `key` is the natural key an import looks
    rows up by; `required` are the keys every entry must have."""

    section: str
    label: str
    model: type[models.Model]
    fields: tuple[str, ...]
    key: tuple[str, ...] = ("name",)
    required: tuple[str, ...] = ("name",)
    extra_keys: tuple[str, ...] = ()  # keys that are not model fields

    @property
    def keys(self) -> tuple[str, ...]:
        return self.fields + self.extra_keys

    def describe(self, entry: dict) -> str:
        return f"{self.label} {entry.get('name')!r}"

    # export

    def export(self, obj: models.Model) -> dict[str, Any]:
        data = {}
        for name in self.fields:
            model_field = self.model._meta.get_field(name)
            value = getattr(obj, name)
            if model_field.many_to_many:
                value = sorted(other.name for other in value.all())
            elif model_field.many_to_one:
                value = value.name if value is not None else None
            elif isinstance(value, dict):
                value = dict(sorted(value.items()))
            elif isinstance(value, timedelta):
                value = duration_iso_string(value)  # "P7DT00H00M00S": YAML has no durations
            data[name] = value
        return data

    def export_all(self) -> list[dict[str, Any]]:
        rows = [self.export(obj) for obj in self.model.objects.all()]
        return sorted(rows, key=lambda row: tuple(row[name] or "" for name in self.key))

    # import

    def apply(self, entry: YamlMapping, report: Report) -> None:
        what = self.describe(entry)
        values = {name: self.resolve(entry, name, what) for name in self.fields if name in entry}
        lookup = {name: values.get(name) for name in self.key}
        obj = self.model.objects.filter(**lookup).first()
        before = self.export(obj) if obj else None
        obj = obj or self.model(**lookup)
        self.save(obj, values, entry, what)
        report.add(what, before, self.export(obj))

    def resolve(self, entry: YamlMapping, name: str, what: str) -> Any:
        """The entry's value for a field, with names turned into the objects they name."""
        value, line = entry[name], entry.line_of(name)
        model_field = self.model._meta.get_field(name)
        if model_field.many_to_many:
            if not isinstance(value, YamlList):
                raise ConfigFileError([(line, f"{what}: {name}: must be a list of names")])
            target = model_field.related_model
            pairs = zip(value, value.lines, strict=True)
            return [_named(target, item, n, f"{what}: {name}") for item, n in pairs]
        if model_field.many_to_one and value is not None:
            return _named(model_field.related_model, value, line, f"{what}: {name}")
        if isinstance(model_field, models.DurationField) and value is not None:
            # ISO 8601 ("PT8H") or seconds, as the API takes a lease.
            parsed = parse_duration(str(value))
            if parsed is None:
                message = f"{what}: {name}: must be an ISO 8601 duration (PT8H, P7D) or seconds"
                raise ConfigFileError([(line, message)])
            return parsed
        return value

    def save(self, obj: models.Model, values: dict, entry: YamlMapping, what: str) -> None:
        # An unchanged row is not saved: its updated_at stays, and so does anything PCM
        # wrote to it meanwhile.
        changed = obj.pk is None or any(getattr(obj, k) != v for k, v in values.items())
        for name, value in values.items():
            setattr(obj, name, value)
        _full_clean(obj, what, entry.line_of)
        if changed:
            obj.save()


class CloudKind(Kind):
    """Clouds carry their mappings: {abstract size or image name: the cloud's own id}.
    Credentials and the runtime fields (last check, circuit breaker) are not written."""

    MAPPINGS = {
        "size_mappings": (SizeMapping, "size", "provider_size_id"),
        "image_mappings": (ImageMapping, "image", "provider_image_id"),
        "subnet_mappings": (SubnetMapping, "subnet", "provider_subnet_id"),
    }

    def export(self, cloud: Cloud) -> dict[str, Any]:
        data = super().export(cloud)
        for key, (model, target, id_field) in self.MAPPINGS.items():
            rows = model.objects.filter(cloud=cloud).select_related(target)
            data[key] = dict(sorted((getattr(m, target).name, getattr(m, id_field)) for m in rows))
        return data

    def save(self, cloud: Cloud, values: dict, entry: YamlMapping, what: str) -> None:
        super().save(cloud, values, entry, what)
        for key, (model, target, id_field) in self.MAPPINGS.items():
            given = entry.get(key)
            if given is None:
                continue
            if not isinstance(given, YamlMapping):
                message = f"{what}: {key}: must map {target} names to the cloud's own ids"
                raise ConfigFileError([(entry.line_of(key), message)])
            for name, provider_id in given.items():
                line = given.line_of(name)
                target_model = model._meta.get_field(target).related_model
                abstract = _named(target_model, name, line, f"{what}: {key}")
                mapping = model.objects.filter(cloud=cloud, **{target: abstract}).first()
                if mapping and getattr(mapping, id_field) == provider_id:
                    continue
                mapping = mapping or model(cloud=cloud, **{target: abstract})
                setattr(mapping, id_field, provider_id)
                # Not checked at the provider here: whatever was known of the old id is moot.
                mapping.found_at_provider = mapping.checked_at = None
                _full_clean(mapping, f"{what}: {key}: {name}", lambda _field, line=line: line)
                mapping.save()


class RoleKind(Kind):
    """Roles are checked by the admin's RoleForm: it adds rules to the model's (a role's
    default size must be one of its allowed sizes)."""

    def save(self, role: Role, values: dict, entry: YamlMapping, what: str) -> None:
        data = {}
        for name in self.fields:
            model_field = Role._meta.get_field(name)
            if name in values:
                value = values[name]
            elif model_field.many_to_many:
                value = list(getattr(role, name).all()) if role.pk else []
            else:
                value = getattr(role, name)
            if model_field.many_to_many:
                value = [other.pk for other in value]
            elif model_field.many_to_one:
                value = value.pk if value else ""
            elif name in values:
                # The model's check: a form would read any text as a checkbox's "on".
                try:
                    value = model_field.clean(value, role)
                except ValidationError as exc:
                    raise _invalid({name: exc.messages}, what, entry.line_of) from None
            data[name] = value
        form = RoleForm(data=data, instance=role)
        if not form.is_valid():
            raise _invalid(form.errors, what, entry.line_of)
        form.save()


class AccessKind(Kind):
    """A group's access to one cloud, or to every cloud (no cloud)."""

    def describe(self, entry: dict) -> str:
        cloud = entry.get("cloud")
        return f"access of {entry.get('group')!r} to {repr(cloud) if cloud else 'every cloud'}"


KINDS = (
    Kind("inventory_backends", "inventory backend", InventoryBackend,
         ("name", "description", "plugin", "options", "outbound_allow")),
    Kind("environments", "environment", Environment,
         ("name", "description", "default_lease", "max_lease")),
    Kind("sizes", "size", AbstractSize, ("name", "description", "vcpus", "ram_mb", "disk_gb")),
    Kind("images", "image", AbstractImage, ("name", "description")),
    Kind("subnets", "subnet", AbstractSubnet, ("name", "description")),
    CloudKind(
        "clouds", "cloud", Cloud,
        ("name", "description", "provider", "enabled", "options",
         "max_vcpus", "max_ram_mb", "max_disk_gb",
         "quota_instances", "quota_vcpus", "quota_ram_mb",
         "default_environment", "default_size", "default_image", "default_subnet",
         "inventory", "placement_group", "extra_allowed", "outbound_allow"),
        extra_keys=tuple(CloudKind.MAPPINGS),
    ),
    RoleKind("roles", "role", Role,
             ("name", "description", "allowed_sizes", "allowed_images", "allowed_subnets",
              "default_size", "default_image", "default_subnet", "spread_over_hosts",
              "default_lease", "max_lease")),
    AccessKind("access", "access", CloudAccess, ("group", "cloud", "level"),
               key=("group", "cloud"), required=("group",)),
)  # fmt: skip


def _named(model: type[models.Model], name: Any, line: int, where: str) -> models.Model:
    """The object of `model` called `name`; a group is created when missing (the file
    gives groups their access, not their members nor permissions)."""
    label = model._meta.verbose_name
    if not isinstance(name, str) or not name:
        raise ConfigFileError([(line, f"{where}: expected the name of a {label}")])
    if model is Group:
        return Group.objects.get_or_create(name=name)[0]
    try:
        return model.objects.get(name=name)
    except model.DoesNotExist:
        raise ConfigFileError([(line, f"{where}: no {label} {name!r}")]) from None


def _full_clean(obj: models.Model, what: str, line_of: Callable[[str], int]) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise _invalid(exc.message_dict, what, line_of) from None


def _invalid(errors: dict, what: str, line_of: Callable[[str], int]) -> ConfigFileError:
    problems = []
    for name, messages in errors.items():
        prefix = what if name == NON_FIELD_ERRORS else f"{what}: {name}"
        problems += [(line_of(name), f"{prefix}: {message}") for message in messages]
    return ConfigFileError(problems)


# -- export and import ------------------------------------------------------------------


def export_config() -> str:
    """The whole configuration as YAML, without credentials."""
    data: dict[str, Any] = {"version": VERSION}
    for kind in KINDS:
        data[kind.section] = kind.export_all()
    return HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


@dataclass
class Report:
    """What an import did (or, in a dry run, would do)."""

    created: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    unchanged: int = 0

    def add(self, what: str, before: dict | None, after: dict) -> None:
        if before is None:
            self.created.append(what)
        elif before == after:
            self.unchanged += 1
        else:
            self.changed.append((what, _differences(before, after)))

    def lines(self) -> list[str]:
        lines = [f"created {what}" for what in self.created]
        for what, differences in self.changed:
            lines.append(f"changed {what}")
            lines += [f"  {difference}" for difference in differences]
        counts = f"{len(self.created)} created, {len(self.changed)} changed"
        return [*lines, f"{counts}, {self.unchanged} unchanged"]


def _differences(before: dict, after: dict) -> list[str]:
    """Each changed field as "name: old -> new"; a mapping's keys one by one."""
    lines = []
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(old.keys() | new.keys()):
                if old.get(key) != new.get(key):
                    lines.append(f"{name}.{key}: {_show(old.get(key))} -> {_show(new.get(key))}")
        else:
            lines.append(f"{name}: {_show(old)} -> {_show(new)}")
    return lines


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _check_structure(data: YamlMapping) -> None:
    """Sections, keys and natural keys, before anything is looked up."""
    problems = []
    sections = {kind.section: kind for kind in KINDS}
    for key in data:
        if key != "version" and key not in sections:
            accepted = ", ".join(["version", *sections])
            problems.append((data.line_of(key), f"unknown section {key!r}; accepted: {accepted}"))
    if data.get("version", VERSION) != VERSION:
        problems.append((data.line_of("version"), f"version must be {VERSION}"))
    for section, kind in sections.items():
        entries = data.get(section) or YamlList()
        if isinstance(entries, YamlList) and all(isinstance(e, YamlMapping) for e in entries):
            problems += _entry_problems(kind, entries)
        else:
            message = f"{section}: expected a list of mappings, one per {kind.label}"
            problems.append((data.line_of(section), message))
    if problems:
        raise ConfigFileError(problems)


def _entry_problems(kind: Kind, entries: YamlList) -> list[tuple[int, str]]:
    """Unknown keys, missing names, and objects named twice in one section."""
    problems = []
    first_lines: dict[tuple, int] = {}
    for entry in entries:
        what = kind.describe(entry)
        for key in entry:
            if key not in kind.keys:
                message = f"{what}: unknown key {key!r}; accepted: {', '.join(kind.keys)}"
                problems.append((entry.line_of(key), message))
        for key in kind.key:
            value = entry.get(key)
            if (value is not None or key in kind.required) and not isinstance(value, str):
                problems.append((entry.line_of(key), f"{what}: {key}: expected a name"))
        natural_key = tuple(str(entry.get(key)) for key in kind.key)
        if natural_key in first_lines:
            message = f"{what} appears twice (first on line {first_lines[natural_key]})"
            problems.append((entry.line, message))
        first_lines.setdefault(natural_key, entry.line)
    return problems


def import_config(text: str, *, dry_run: bool = False) -> Report:
    """Create or update every object the YAML `text` names, in one transaction; with
    `dry_run`, only report what would change. ConfigFileError: nothing was changed."""
    data = _parse(text)
    _check_structure(data)
    report = Report()
    with transaction.atomic():
        for kind in KINDS:
            for entry in data.get(kind.section) or ():
                kind.apply(entry, report)
        if dry_run:
            transaction.set_rollback(True)
    return report
