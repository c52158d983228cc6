"""PCM's one error type for provider calls, and how libcloud's failures become it.

Every failure of a provider call is a `ProviderError` (or one of its kinds below) by the
time it leaves a plugin; `translate()` is the shared reading of libcloud-side failures,
`worth_asking_again()` says which reads are worth a second try.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import requests
import urllib3
from libcloud.common.exceptions import BaseHTTPError, RateLimitReachedError
from libcloud.common.types import InvalidCredsError, LibcloudError

from providers.outbound import OutboundRefused, short

logger = logging.getLogger("providers.base")

T = TypeVar("T")


class ProviderError(Exception):
    """A provider call failed. `transient`: the same call may succeed later (network,
    timeout, 5xx, throttling); otherwise retrying will not help (credentials, bad ids).
    `maybe_done`: the cloud may have carried the call out although it failed here (its
    answer was lost: a read timeout, a reset connection, a 5xx); False when the call
    cannot have run (refused before it was sent, throttled, answered with a 4xx). A create
    that fails this way may have made a node. By default, what `transient` says."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        provider_detail: str = "",
        maybe_done: bool | None = None,
    ):
        self.message = message
        self.transient = transient
        self.provider_detail = provider_detail
        self.maybe_done = transient if maybe_done is None else maybe_done
        super().__init__(message)


class Unsupported(ProviderError):
    """The cloud does not offer this operation."""

    def __init__(self, operation: str, provider_detail: str = ""):
        super().__init__(
            f"{operation.replace('_', ' ').capitalize()} is not supported by this cloud",
            transient=False,
            provider_detail=provider_detail,
        )


class StateConflict(ProviderError):
    """The cloud refused an action on a node in its present state (HTTP 409): Nova while a
    server builds or another task runs on it, a stop of a server that is stopped. Nothing
    was done, and the cloud was reached; once the node's task ends, the same action may be
    taken."""

    def __init__(self, operation: str, provider_detail: str = ""):
        message = f"The cloud refused the {operation} in the node's present state"
        if provider_detail:
            message += f" ({short(provider_detail)})"
        super().__init__(
            message, transient=False, provider_detail=provider_detail, maybe_done=False
        )


# Operations a cloud may refuse with a 409 for the node's state (for a create a 409 means
# something else: a name or an id in use).
NODE_ACTIONS = frozenset({"reboot", "start", "stop", "destroy"})


class NotFoundAtProvider(ProviderError):
    """The provider does not know the node, size or image id asked for."""

    def __init__(self, provider_detail: str = ""):
        message = "The cloud does not know this id"
        if provider_detail:
            message += f" ({short(provider_detail)})"
        super().__init__(message, transient=False, provider_detail=provider_detail)


class ExtraError(ValueError):
    """A request's `extra` has keys the provider's create call does not take, or a value
    it cannot take (providers/base/extra.py)."""

    def __init__(self, unknown: Iterable[str], accepted: Iterable[str], message: str = ""):
        self.unknown = sorted(unknown)
        self.accepted = sorted(accepted)
        super().__init__(
            message
            or f"Unknown extra option(s) {', '.join(self.unknown)}; "
            f"accepted: {', '.join(self.accepted) or 'none'}"
        )

    @classmethod
    def refused(cls, key: str, why: str, accepted: Iterable[str]) -> ExtraError:
        accepted = sorted(accepted)
        return cls(
            [key],
            accepted,
            f"{key} is {why}, which this cloud does not allow (its administrator can, in the "
            f"cloud's extra options); accepted: {', '.join(accepted) or 'none'}",
        )

    @classmethod
    def wrong_type(cls, key: str, expected: str) -> ExtraError:
        return cls([], [], f"{key} must be {expected}")


def worth_asking_again(exc: Exception) -> bool:
    """A read the cloud failed that may well succeed a moment later: a dropped or refused
    connection, a 5xx. Not a timeout (a call never takes much longer than the cloud's
    timeout), not a refusal (4xx); throttling has its own backoff."""
    if isinstance(exc, requests.exceptions.Timeout | socket.timeout | TimeoutError):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        return True
    code = int(getattr(exc, "code", 0) or 0) if isinstance(exc, BaseHTTPError) else 0
    return code >= 500 and not throttled(exc)


def read_page(fetch: Callable[[], T], attempts: int = 3) -> T:
    """One page of a listing, asked again (briefly) when the cloud fails it, so that one
    failed page of many does not fail the whole listing."""
    for attempt in range(1, attempts + 1):
        try:
            return fetch()
        except Exception as exc:
            if attempt == attempts or not worth_asking_again(exc):
                raise
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


THROTTLING_CODES = ("RequestLimitExceeded", "Throttling", "TooManyRequests", "RateLimitExceeded")


def throttled(exc: Exception) -> bool:
    if isinstance(exc, RateLimitReachedError):
        return True
    if isinstance(exc, BaseHTTPError):
        return int(getattr(exc, "code", 0) or 0) == 429 or any(
            code in str(exc) for code in THROTTLING_CODES
        )
    return False


def _detail(exc: Exception) -> str:
    """The cloud's own text (an error body), bounded for the log; clients see it short."""
    value = getattr(exc, "value", None) or getattr(exc, "message", None) or str(exc)
    return str(value)[:10000]


def translate(exc: Exception, operation: str, timeout: int) -> ProviderError:
    """The shared reading of libcloud-side failures. A message carries the cloud's own
    text only short and sanitised (`short`); `provider_detail` has more, for the log."""
    detail = _detail(exc)
    if isinstance(exc, OutboundRefused):  # PCM's own refusal: the cloud was not asked
        return ProviderError(
            f"The {operation} was not sent: {exc.message}",
            transient=False,
            maybe_done=False,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ProviderError(
            f"Cannot reach the cloud for the {operation} (no connection within {timeout} s)",
            transient=True,
            provider_detail=detail,
            maybe_done=False,
        )
    if isinstance(exc, requests.exceptions.Timeout | socket.timeout | TimeoutError):
        return ProviderError(
            f"The cloud did not answer the {operation} within {timeout} s",
            transient=True,
            provider_detail=detail,
        )
    if isinstance(exc, requests.exceptions.RequestException | ConnectionError):
        return ProviderError(
            f"Cannot reach the cloud for the {operation}",
            transient=True,
            provider_detail=detail,
            maybe_done=not _never_sent(exc),
        )
    if isinstance(exc, InvalidCredsError):
        return ProviderError(
            f"The cloud refused the credentials for the {operation}",
            transient=False,
            provider_detail=detail,
        )
    if isinstance(exc, RateLimitReachedError):
        return ProviderError(
            f"The cloud is throttling requests ({operation})",
            transient=True,
            provider_detail=detail,
            maybe_done=False,
        )
    if isinstance(exc, BaseHTTPError):
        code = int(getattr(exc, "code", 0) or 0)
        if code == 501:
            return Unsupported(operation, provider_detail=detail)
        if code == 404:
            return NotFoundAtProvider(provider_detail=detail)
        if code == 409 and operation in NODE_ACTIONS:
            return StateConflict(operation, provider_detail=detail)
        return ProviderError(
            f"The cloud answered {code} to the {operation}: {short(detail)}",
            transient=code >= 500 or throttled(exc),
            provider_detail=detail,
            maybe_done=code >= 500 and not throttled(exc),
        )
    if isinstance(exc, LibcloudError):
        return ProviderError(
            f"The {operation} failed: {short(detail)}", transient=False, provider_detail=detail
        )
    if isinstance(exc, OSError):
        return ProviderError(
            f"Cannot reach the cloud for the {operation}", transient=True, provider_detail=detail
        )
    logger.warning("Unexpected %s from the cloud driver during %s", type(exc).__name__, operation)
    return ProviderError(
        f"The {operation} failed: {type(exc).__name__} from the cloud driver: {short(detail)}",
        transient=False,
        provider_detail=detail,
        maybe_done=True,  # it may have failed reading an answer to a call that was made
    )


def _never_sent(exc: Exception) -> bool:
    """The connection was refused: the request never reached the cloud."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ConnectionRefusedError | urllib3.exceptions.NewConnectionError):
            return True
        exc = getattr(exc, "reason", None) or (exc.args[0] if exc.args else None)
        if not isinstance(exc, BaseException):
            return False
    return False
