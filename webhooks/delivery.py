"""One attempt at delivering an event: a signed POST, bounded in time, no redirects."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta

import requests

from providers import outbound

TIMEOUT = 5  # seconds for the connection and for the answer
RETRY_FOR = timedelta(days=1)  # after the event, a failed delivery is not tried again
FIRST_RETRY = 30  # seconds; doubled at each attempt
LONGEST_WAIT = 3600


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The PCM-Signature header: t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return timedelta(seconds=min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str
    duration_ms: int


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def post(*, url: str, secret: str, payload: dict, policy: outbound.Policy) -> Outcome:
    """POST the event once; a 2xx is a delivery, anything else an error that says why."""
    body = body_of(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PCM-Webhooks/1",
        "PCM-Event-Id": payload["id"],
        "PCM-Event-Type": payload["type"],
        "PCM-Signature": signature(secret, int(time.time()), body),
    }
    started = time.monotonic()
    status, error = None, ""
    try:
        with outbound.session(policy) as session:
            response = session.post(
                url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
            )
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}: {outbound.short(response.text)}"
    except requests.Timeout:
        error = f"No answer within {TIMEOUT} s"
    except outbound.OutboundRefused as exc:
        error = exc.message
    except requests.RequestException as exc:
        error = outbound.short(f"{type(exc).__name__}: {exc}")
    duration_ms = round((time.monotonic() - started) * 1000)
    return Outcome(ok=not error, status=status, error=error, duration_ms=duration_ms)
