"""The `extra` keys a plugin's create takes: each one's type, and whether it is sensitive
(never shown, kept encrypted) or privileged (refused unless the cloud allows it).

A client's `extra` is checked here before the 202, so that a create is never accepted that
can only fail in the worker: an unknown key, a value of the wrong type, a privileged key
the cloud's administrator has not allowed, are an `ExtraError` that says what is expected.
Values libcloud needs as objects (an EC2 subnet, OpenStack networks) are plain JSON in the
request and in PCM's rows; the plugin makes the objects when it creates
(`Provider.extra_objects`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from providers.base.errors import ExtraError


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _objects(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


_UUID = re.compile(r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}")


def _uuids(value) -> bool:
    return _strings(value) and all(_UUID.fullmatch(item) for item in value)


def _string_map(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


# kind -> (check, what a client is told is expected)
KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda value: isinstance(value, str), "a string"),
    "bool": (lambda value: isinstance(value, bool), "true or false"),
    "int": (
        lambda value: isinstance(value, int) and not isinstance(value, bool),
        "a whole number",
    ),
    "number": (
        lambda value: isinstance(value, int | float) and not isinstance(value, bool),
        "a number",
    ),
    "list[str]": (_strings, "a list of strings"),
    "list[uuid]": (_uuids, "a list of ids (UUIDs; names are not looked up)"),
    "list[object]": (_objects, "a list of objects"),
    "dict[str,str]": (_string_map, "an object of strings"),
    "object": (lambda value: isinstance(value, dict), "an object"),
}


@dataclass(frozen=True)
class Param:
    """One `extra` key: its kind (KINDS), and what it says about it."""

    kind: str
    help: str = ""
    sensitive: bool = False  # a secret: never in a response, event or log; encrypted
    privileged: bool = False  # more power than a create needs: the cloud must allow it

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown extra kind {self.kind!r}; known: {', '.join(KINDS)}")

    @property
    def expected(self) -> str:
        return KINDS[self.kind][1]


def check(
    member: Any,
    params: Mapping[str, Param],
    allowed: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The client's `extra` member for one plugin, checked against its declared `params`
    and the cloud's `allowed` keys (None or empty: every key that is not privileged). The
    same mapping, keyed by the client's names without `ex_`; ExtraError otherwise."""
    if not member:
        return {}
    if not isinstance(member, Mapping):
        raise ExtraError(["(not an object)"], params)
    allowed = set(allowed or ())
    offered = {
        key
        for key, param in params.items()
        if (key in allowed if allowed else not param.privileged)
    }
    checked, unknown = {}, []
    for given, value in member.items():
        key = given.removeprefix("ex_")
        if key not in params:
            unknown.append(given)
            continue
        param = params[key]
        if key not in offered:
            why = "a privileged option" if param.privileged else "not among the cloud's options"
            raise ExtraError.refused(key, why, sorted(offered))
        if not KINDS[param.kind][0](value):
            raise ExtraError.wrong_type(key, param.expected)
        checked[key] = value
    if unknown:
        raise ExtraError(unknown, sorted(offered))
    return checked


def split(checked: Mapping[str, Any], params: Mapping[str, Param]) -> tuple[dict, dict]:
    """(what may be shown, the sensitive members) of a checked `extra`."""
    shown = {k: v for k, v in checked.items() if not params[k].sensitive}
    secret = {k: v for k, v in checked.items() if params[k].sensitive}
    return shown, secret
