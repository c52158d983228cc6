"""What the proxy knows of one request and one answer, whatever the cloud's dialect.

The server (server.py) decides *whether* to inject a fault; each dialect module (ec2.py for
EC2's query API, nova.py for OpenStack Nova) knows *how* its cloud says it: the body of a
5xx, of a throttled call, of an unknown id, and where a create names the node it made. Both
sides meet on these two small types, so that adding a cloud means adding a module, not
editing the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["create", "write", "read"]


@dataclass
class Call:
    """One request as the proxy understands it."""

    dialect: str  # "ec2", "nova", or "keystone" (authentication: never faulted)
    method: str
    path: str  # path and query string, as the client sent them
    body: bytes | None
    action: str = ""  # EC2's Action; for Nova "GET servers/detail", "POST servers/{id}/action"
    kind: Kind = "read"
    ids: tuple[str, ...] = ()  # node ids the call names (NotFound while they are hidden)
    is_list: bool = False  # a listing of nodes (hidden nodes are left out, pages are cut)
    token: str = ""  # EC2's ClientToken
    pcm_id: str = ""  # PCM's id carried by a create (EC2 tag, Nova server metadata)
    params: dict[str, str] = field(default_factory=dict)  # query (and EC2 form) parameters

    def matches(self, which: str) -> bool:
        """Whether the call is of the kind a fault is aimed at: create, write, read, any."""
        if which == "any":
            return True
        if which == "write":
            return self.kind in ("create", "write")
        return self.kind == which


@dataclass
class Answer:
    """A response to write back: the peer's (possibly rewritten) or one the proxy made."""

    status: int
    body: bytes
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300
