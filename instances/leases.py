"""Leases: how long an instance may live before PCM deletes it (docs/api.md, Leases).

A lease is an ISO 8601 duration ("PT8H", "P3D") or a number of seconds. The instance's role
and environment may each set a default lease and a maximum: the stricter (shorter) maximum
wins when both set one; the role's default comes before the environment's, and a default
above the maximum that applies is cut to it. Where a maximum applies an instance always has
an expiry (a create that names no lease and finds no default gets the maximum).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_duration

from clouds.models import Environment, Role
from pcm.errors import BadRequest

ACCEPTED = 'an ISO 8601 duration such as "PT8H" or "P3D", or a number of seconds'
# Far enough for any lab; and now + a lease stays a date.
LONGEST = timedelta(days=3650)
# Months and years have no fixed length: parse_duration does not take them, and a lease
# that means different times in February and in March would surprise.
CALENDAR = re.compile(r"^P(?:[^T]*[YM])", re.IGNORECASE)


def parse_lease(value: Any, field: str = "lease") -> timedelta:
    """The lease a client gave; BadRequest naming the accepted forms otherwise."""
    if isinstance(value, bool):
        raise BadRequest(f"{field} must be {ACCEPTED}; got {value!r}")
    too_long = BadRequest(f"{field} must be at most 10 years (P3650D); got {value!r}")
    try:
        lease = _parsed(value, field)
    except (OverflowError, ValueError):  # beyond what a timedelta holds
        raise too_long from None
    if lease <= timedelta(0):
        raise BadRequest(f"{field} must be longer than zero; got {value!r}")
    if lease > LONGEST:
        raise too_long
    return lease


def _parsed(value: Any, field: str) -> timedelta:
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str) and value.strip().isdigit():
        return timedelta(seconds=int(value.strip()))
    if isinstance(value, str) and value.strip().upper().startswith("P"):
        text = value.strip().upper()
        if CALENDAR.match(text):
            raise BadRequest(
                f"{field} {value!r}: months and years are not accepted (their length varies); "
                'use days, e.g. "P30D"'
            )
        lease = parse_duration(text)
        if lease is None:
            raise BadRequest(f"{field} {value!r} is not {ACCEPTED}")
        return lease
    raise BadRequest(f"{field} must be {ACCEPTED}; got {value!r}")


def parse_time(value: Any, field: str = "expires_at") -> datetime:
    """An ISO 8601 time (without an offset: UTC); BadRequest otherwise."""
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise BadRequest(
            f'{field} must be an ISO 8601 time such as "2026-12-24T18:00:00Z", or null; '
            f"got {value!r}"
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return in_utc(parsed, field)


def in_utc(moment: datetime, field: str) -> datetime:
    """The time in UTC: PostgreSQL refuses offsets beyond 15:59 that Python takes
    ("-17:59"), and a time near year 1 or 9999 may not move to UTC at all."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadRequest(f"{field} is out of range: {moment.isoformat()}") from None


def human(lease: timedelta) -> str:
    """A lease as people write it: 7 days, 8:00:00."""
    return str(lease).replace(", 0:00:00", "")


def maximum(role: Role | None, environment: Environment) -> tuple[timedelta | None, str]:
    """The longest lease the role and environment allow (the shorter of the two) and what
    sets it ("role web"), or (None, "") where none applies."""
    limits = [
        (policy.max_lease, f"{kind} {policy.name}")
        for kind, policy in (("role", role), ("environment", environment))
        if policy is not None and policy.max_lease is not None
    ]
    if not limits:
        return None, ""
    return min(limits, key=lambda limit: limit[0])


def check_within(role: Role | None, environment: Environment, lease: timedelta) -> None:
    """BadRequest when the lease is above the maximum that applies; the message names it."""
    longest, source = maximum(role, environment)
    if longest is not None and lease > longest:
        raise BadRequest(
            f"A lease of {human(lease)} is above the maximum of {source}: {human(longest)} "
            f"(max_lease {int(longest.total_seconds())} s)"
        )


def lease_for_create(role: Role | None, environment: Environment, given: Any) -> timedelta | None:
    """The lease a create gets: the client's (checked against the maximum), else the role's
    or the environment's default (cut to the maximum), else the maximum; None: no expiry."""
    longest, _ = maximum(role, environment)
    if given is not None:
        lease = parse_lease(given)
        check_within(role, environment, lease)
        return lease
    default = (role and role.default_lease) or environment.default_lease
    if default is None:
        return longest
    return min(default, longest) if longest is not None else default


def expiry_for_patch(instance, data: dict[str, Any], now: datetime) -> datetime | None:
    """The new expires_at of a PATCH {"expires_at": ...} or {"lease": ...} (from now):
    in the future, within the maximum; null only where no maximum applies."""
    ((field, value),) = data.items()
    longest, source = maximum(instance.role, instance.environment)
    if value is None:
        if longest is not None:
            raise BadRequest(
                f"The instance must keep an expiry: {source} has a maximum lease of "
                f"{human(longest)}"
            )
        return None
    if field == "lease":
        lease = parse_lease(value)
    else:
        lease = parse_time(value) - now
        if lease <= timedelta(0):
            raise BadRequest(f"expires_at must be in the future (now: {now.isoformat()})")
    check_within(instance.role, instance.environment, lease)
    return now + lease
