"""What the plugins report about each call they make to a cloud or an Inventory.

Every call is timed into a Prometheus histogram, counted when it fails, and logged on one
INFO line (what, where, how long, how it ended). Labels are the cloud's name or the
backend's key and the operation, never an option or a credential.

`request_id_var` holds the id of the request a call is made for (set by pcm.middleware in
a web process and by instances.tasks in a worker). It lives here, at the bottom of the
import chain, so that a plugin can pass it on (the HTTP Inventory's X-Request-ID) without
importing the apps.
"""

from __future__ import annotations

import contextvars
import logging
import time

from prometheus_client import Counter, Histogram

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

logger = logging.getLogger("providers.calls")

# Provider calls range from tens of milliseconds (a list) to the timeout (30 s by default).
BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

PROVIDER_SECONDS = Histogram(
    "pcm_provider_call_duration_seconds",
    "Time spent in one call to a cloud (one attempt), by cloud and operation",
    ["cloud", "operation"],
    buckets=BUCKETS,
)
PROVIDER_ERRORS = Counter(
    "pcm_provider_call_errors",
    "Calls to a cloud that failed (one attempt), by cloud and operation",
    ["cloud", "operation"],
)
INVENTORY_SECONDS = Histogram(
    "pcm_inventory_call_duration_seconds",
    "Time spent in one call to an Inventory backend, by backend and operation",
    ["backend", "operation"],
    buckets=BUCKETS,
)
INVENTORY_ERRORS = Counter(
    "pcm_inventory_call_errors",
    "Calls to an Inventory backend that failed, by backend and operation",
    ["backend", "operation"],
)


def provider_call(cloud: str, operation: str, started: float, error: str = "") -> None:
    """Record one call to a cloud that began at `started` (time.monotonic())."""
    seconds, operation = time.monotonic() - started, _label(operation)
    PROVIDER_SECONDS.labels(cloud, operation).observe(seconds)
    if error:
        PROVIDER_ERRORS.labels(cloud, operation).inc()
    _log("provider", {"cloud": cloud}, operation, seconds, error)


def inventory_call(backend: str, operation: str, started: float, error: str = "") -> None:
    """Record one call to an Inventory backend that began at `started`."""
    seconds, operation = time.monotonic() - started, _label(operation)
    INVENTORY_SECONDS.labels(backend, operation).observe(seconds)
    if error:
        INVENTORY_ERRORS.labels(backend, operation).inc()
    _log("inventory", {"backend": backend}, operation, seconds, error)


def _label(operation: str) -> str:
    return operation.replace(" ", "_")  # "list sizes" -> list_sizes


def _log(call: str, where: dict[str, str], operation: str, seconds: float, error: str) -> None:
    """One line per call: `key=value` words for people, the same as fields for JSON logs."""
    fields = {
        "call": call,
        **where,
        "operation": operation,
        "duration_ms": round(seconds * 1000, 1),
        "outcome": "error" if error else "ok",
    }
    words = " ".join(f"{key}={value}" for key, value in fields.items() if key != "call")
    logger.info("%s call %s%s", call, words, f" error={error!r}" if error else "", extra=fields)
