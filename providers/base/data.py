"""The plain data the rest of PCM sees of a cloud: nodes, sizes, images, subnets, and
what a create adds besides name, size and image."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from providers.status import Status

TAG = "pcm_id"  # the tag/metadata key that marks a node with PCM's instance id

# Operations a plugin may offer; `Provider.capabilities` lists those it does.
OPERATIONS = frozenset(
    {
        "create",
        "list_sizes",
        "list_images",
        "list_locations",
        "destroy",
        "reboot",
        "start",
        "stop",
        "console_log",
    }
)
# What a plugin may carry to the cloud besides name, size and image: a subnet or network
# (and a listing of them for the catalogue), cloud-init user data (PCM's SSH keys travel in
# it), and the client's tags as the cloud's own tags or metadata.
FEATURES = frozenset({"subnets", "list_subnets", "user_data", "provider_tags"})
CAPABILITIES = OPERATIONS | FEATURES


@dataclass(frozen=True)
class Node:
    """A node (instance) as the provider reports it."""

    provider_id: str
    name: str
    status: Status
    raw_status: str
    pcm_id: str | None = None
    public_ips: tuple[str, ...] = ()
    private_ips: tuple[str, ...] = ()
    created_at: datetime | None = None
    error: str = ""  # the cloud's own reason for an error state, where it gives one


@dataclass(frozen=True)
class Size:
    id: str
    name: str
    vcpus: int | None = None
    ram_mb: int | None = None
    disk_gb: int | None = None


@dataclass(frozen=True)
class Image:
    id: str
    name: str


@dataclass(frozen=True)
class Location:
    id: str
    name: str


@dataclass(frozen=True)
class Subnet:
    """A subnet (EC2) or network (OpenStack) a node can be put on."""

    id: str
    name: str
    cidr: str = ""


@dataclass(frozen=True)
class CreateOptions:
    """What PCM adds to a create besides name, size and image."""

    pcm_id: str  # tagged on the node, so that a re-run of the task finds it (no duplicate)
    extra: Mapping[str, Any] = field(default_factory=dict)  # the request's extra for this type
    different_host: tuple[str, ...] = ()  # provider ids to keep away from (anti-affinity)
    placement_group: str = ""  # a spread placement group, where the cloud has one (EC2)
    subnet: str = ""  # the cloud's subnet or network id ("": the cloud's default)
    user_data: str = ""  # cloud-init user data, as text (never log it)
    tags: Mapping[str, str] = field(default_factory=dict)  # the client's tags

    def __repr__(self) -> str:  # never the user data
        return f"<CreateOptions {self.pcm_id} subnet={self.subnet!r} tags={dict(self.tags)!r}>"
