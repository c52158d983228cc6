"""A create request resolved against the configuration: every field checked, defaults
applied, abstract names mapped to the cloud's own ids. BadRequest says what is wrong and
what is accepted; nothing here calls a cloud."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef

from clouds.models import AbstractImage, AbstractSize, AbstractSubnet, Cloud, Environment, Role
from instances.cloudinit import clean_ssh_keys, clean_user_data, combined
from instances.leases import lease_for_create
from instances.tags import clean_tags
from pcm.errors import BadRequest
from providers.base import ExtraError
from providers.base.extra import check as extra_check
from providers.base.extra import split as extra_split

CREATE_FIELDS = (
    "size",
    "image",
    "subnet",
    "environment",
    "role",
    "ssh_keys",
    "user_data",
    "tags",
    "lease",
    "extra",
)
# What a role may limit (its allowed_sizes, allowed_images, allowed_subnets).
NOUNS = ("size", "image", "subnet")


@dataclass(frozen=True)
class CreatePlan:
    """A create request resolved against the configuration."""

    role: Role | None
    environment: Environment
    size: AbstractSize
    image: AbstractImage
    subnet: AbstractSubnet | None
    provider_size_id: str
    provider_image_id: str
    provider_subnet_id: str
    extra: dict[str, Any]  # what may be shown of it; the sensitive members are below
    secret_extra: dict[str, Any] = field(default_factory=dict, repr=False)
    ssh_keys: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    # What the cloud is sent (never shown): the client's user data with the SSH keys.
    user_data: str = field(default="", repr=False)
    # The client's own user data, as a response shows it: its SHA-256 and size in bytes.
    user_data_sha256: str = ""
    user_data_size: int | None = None
    lease: timedelta | None = None  # None: no expiry


def names(queryset) -> str:
    return ", ".join(sorted(queryset.values_list("name", flat=True))) or "none"


def _resolve(cloud, model, noun, given, default, mappings, role_allowed, *, optional=False):
    """One abstract size, image or subnet: known, mapped in this cloud, allowed by the
    role (`role_allowed`: what it allows, None when it allows any). An optional one (the
    subnet) with no default is None: the cloud's own default."""
    mapping = None
    if given is None:
        if default is None:
            if optional and role_allowed is None:
                return None, None
            accepted = names(model.objects.filter(mappings__cloud=cloud))
            raise BadRequest(
                f"{noun} is required: cloud {cloud.name} and the role have no default "
                f"{noun}; accepted: {accepted}"
            )
        thing = default
    else:
        # The mapping and what it maps in one query; the name alone only to say what is wrong.
        mapping = mappings.select_related(noun).filter(**{f"{noun}__name": given}).first()
        thing = getattr(mapping, noun) if mapping else model.objects.filter(name=given).first()
        if thing is None:
            accepted = names(model.objects.filter(mappings__cloud=cloud))
            raise BadRequest(f"{noun.capitalize()} {given} does not exist; accepted: {accepted}")
    if mapping is None:
        mapping = mappings.filter(**{noun: thing}).first()
    if mapping is None:
        accepted = names(model.objects.filter(mappings__cloud=cloud))
        raise BadRequest(
            f"{noun.capitalize()} {thing.name} is not offered by cloud {cloud.name}; "
            f"accepted: {accepted}"
        )
    if role_allowed is not None and not role_allowed.filter(pk=thing.pk).exists():
        raise BadRequest(
            f"Role {role_allowed.instance.name} does not allow {noun} {thing.name}; "
            f"allowed: {names(role_allowed)}"
        )
    return thing, mapping


def _roles():
    """Roles, each with whether it limits the sizes, images and subnets it allows (an empty
    list allows any): asked in the role's own query rather than one query each."""
    return Role.objects.annotate(
        **{
            f"limits_{noun}s": Exists(
                getattr(Role, f"allowed_{noun}s").through.objects.filter(role_id=OuterRef("pk"))
            )
            for noun in NOUNS
        }
    )


def _allowed(role: Role | None, noun: str):
    """What the role allows of `noun` (size, image, subnet), or None when it allows any."""
    if role is None or not getattr(role, f"limits_{noun}s"):
        return None
    return getattr(role, f"allowed_{noun}s")


def _default(given: str | None, role: Role | None, cloud: Cloud, noun: str):
    """The role's default size, image or subnet, else the cloud's: looked up only when the
    request names none (each is one more query)."""
    if given is not None:
        return None
    return (role and getattr(role, f"default_{noun}")) or getattr(cloud, f"default_{noun}")


def plan_create(*, cloud: Cloud, data: dict[str, Any]) -> CreatePlan:
    """Everything a create needs, checked; BadRequest says what is wrong and what is not."""
    unknown = sorted(set(data) - set(CREATE_FIELDS))
    if unknown:
        raise BadRequest(
            f"Unknown field(s) {', '.join(unknown)}; accepted: {', '.join(CREATE_FIELDS)}"
        )
    if (data.get("ssh_keys") or data.get("user_data")) and "user_data" not in cloud.capabilities:
        raise BadRequest(
            f"Cloud {cloud.name} ({cloud.provider}) takes no user data: leave out ssh_keys "
            "and user_data"
        )
    for name in ("size", "image", "subnet", "environment", "role"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise BadRequest(f"{name} must be a string (a name), or left out")
    role = None
    if data.get("role") is not None:
        role = _roles().filter(name=data["role"]).first()
        if role is None:
            raise BadRequest(f"Role {data['role']} does not exist; accepted: {names(Role.objects)}")
    environment = _environment(cloud, data.get("environment"))
    size, size_mapping = _resolve(
        cloud,
        AbstractSize,
        "size",
        data.get("size"),
        _default(data.get("size"), role, cloud, "size"),
        cloud.size_mappings,
        _allowed(role, "size"),
    )
    image, image_mapping = _resolve(
        cloud,
        AbstractImage,
        "image",
        data.get("image"),
        _default(data.get("image"), role, cloud, "image"),
        cloud.image_mappings,
        _allowed(role, "image"),
    )
    extra, secret_extra = _extra_for(cloud, data.get("extra"))
    every_extra = {**extra, **secret_extra}
    subnet, subnet_mapping = _subnet(cloud, role, data.get("subnet"), every_extra)
    ssh_keys = clean_ssh_keys(data.get("ssh_keys"))
    user_data = clean_user_data(data.get("user_data"))
    user_data_params = cloud.plugin.user_data_params if user_data or ssh_keys else ()
    _not_in_extra(cloud, every_extra, user_data_params)
    return CreatePlan(
        role=role,
        environment=environment,
        size=size,
        image=image,
        subnet=subnet,
        provider_size_id=size_mapping.provider_size_id,
        provider_image_id=image_mapping.provider_image_id,
        provider_subnet_id=subnet_mapping.provider_subnet_id if subnet_mapping else "",
        extra=extra,
        secret_extra=secret_extra,
        ssh_keys=ssh_keys,
        tags=clean_tags(data.get("tags")),
        user_data=combined(ssh_keys, user_data),
        user_data_sha256=hashlib.sha256(user_data.encode()).hexdigest() if user_data else "",
        user_data_size=len(user_data.encode()) if user_data else None,
        lease=lease_for_create(role, environment, data.get("lease")),
    )


def _environment(cloud: Cloud, given: str | None) -> Environment:
    if given is not None:
        environment = Environment.objects.filter(name=given).first()
        if environment is None:
            raise BadRequest(
                f"Environment {given} does not exist; accepted: {names(Environment.objects)}"
            )
        return environment
    if cloud.default_environment is None:
        raise BadRequest(
            f"environment is required: cloud {cloud.name} has no default environment; "
            f"accepted: {names(Environment.objects)}"
        )
    return cloud.default_environment


def _subnet(cloud: Cloud, role: Role | None, given: str | None, extra: dict[str, Any]):
    """The abstract subnet and its mapping; (None, None) for the cloud's own default
    network. A network the client's `extra` names itself wins over a default subnet, and
    cannot be combined with one the client names."""
    params = _extra_params(cloud, extra) & set(cloud.plugin.subnet_params)
    if params and given is not None:
        _not_in_extra(cloud, extra, params, "subnet")
    if params:
        return None, None
    return _resolve(
        cloud,
        AbstractSubnet,
        "subnet",
        given,
        _default(given, role, cloud, "subnet"),
        cloud.subnet_mappings,
        _allowed(role, "subnet"),
        optional=True,
    )


def _extra_params(cloud: Cloud, extra: dict[str, Any]) -> set[str]:
    """The create_node() arguments the client's (checked) `extra` sets."""
    accepted = cloud.plugin.extra_params()
    return {accepted[key] for key in extra}


def _not_in_extra(cloud: Cloud, extra: dict[str, Any], params, field_name: str = "") -> None:
    """BadRequest when the client's `extra` sets what a field of the request sets too."""
    clash = sorted(_extra_params(cloud, extra) & set(params))
    if clash:
        keys = ", ".join(f"extra.{cloud.provider}.{name.removeprefix('ex_')}" for name in clash)
        what = field_name or "ssh_keys and user_data"
        raise BadRequest(f"Give {what} or {keys}, not both")


def _extra_for(cloud: Cloud, extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The member of `extra` for this cloud's provider type, checked against the plugin's
    declared types and the cloud's allowed keys: (what may be shown, the sensitive part)."""
    if extra is None:
        return {}, {}
    if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
        raise BadRequest(
            'extra must be an object keyed by provider type, e.g. {"openstack": {"keyname": "k"}}'
        )
    plugin = cloud.plugin
    try:
        checked = extra_check(
            extra.get(cloud.provider, {}), plugin.extra_declared(), cloud.extra_allowed
        )
    except ExtraError as exc:
        raise BadRequest(f"extra.{cloud.provider}: {exc}") from None
    return extra_split(checked, plugin.extra_declared())
