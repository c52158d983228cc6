"""Idempotency keys on creates: the same key, user, cloud and body within the window (counted
from the first request) answer the first answer again instead of creating again.

A key is one user's, for one cloud: the same key on another cloud is refused (422), as is
another body. A request that died without an answer leaves its key "in flight"; after
IN_FLIGHT_STALE one later request takes it over, compare-and-set, so that two concurrent
takeovers cannot both create. Expired records are pruned on a schedule (prune()).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clouds.models import Cloud
from instances.models import IdempotencyRecord
from pcm.errors import BadRequest, Conflict, Unprocessable

WINDOW = timedelta(hours=24)
IN_FLIGHT_STALE = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def body_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def claim(*, user, cloud: Cloud, key: str, data: Any) -> IdempotencyRecord | Replay:
    """The record to complete for a new key, or the stored answer for a repeated one."""
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(
            f"Idempotency-Key must be at most {MAX_KEY_LENGTH} printable characters "
            f"(got {len(key)})"
        )
    digest = body_hash(data)
    now = timezone.now()
    IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=now - WINDOW).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=user, key=key, cloud=cloud, body_hash=digest, created_at=now, claimed_at=now
            )
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.select_related("cloud").get(user=user, key=key)
    if record.cloud_id != cloud.pk:
        used_for = f"cloud {record.cloud.name}" if record.cloud else "another cloud"
        raise Unprocessable(f"Idempotency-Key {key} was used for {used_for}; use a new key")
    if record.body_hash != digest:
        raise Unprocessable(
            f"Idempotency-Key {key} was used with a different request body; use a new key"
        )
    if record.response_status is not None:
        return Replay(status=record.response_status, body=record.response_body)
    if record.claimed_at > now - IN_FLIGHT_STALE:
        raise Conflict(f"A request with Idempotency-Key {key} is still being handled")
    # The first request died without an answer: this one takes over, if no other did first.
    if not take_over(record, now):
        raise Conflict(f"A request with Idempotency-Key {key} is still being handled")
    return record


def take_over(record: IdempotencyRecord, now) -> bool:
    """Claim a stale record, compare-and-set on the claim it was read with: of two requests
    that read the same stale claim, one wins."""
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, response_status__isnull=True, claimed_at=record.claimed_at
    ).update(claimed_at=now)
    if taken:
        record.claimed_at = now
    return bool(taken)


def complete(record: IdempotencyRecord, *, instance, status: int, body: dict[str, Any]) -> None:
    """Store the answer (in the transaction that creates the instance)."""
    record.instance = instance
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["instance", "response_status", "response_body"])


def abandon(record: IdempotencyRecord) -> None:
    """The request failed: the key may be used again."""
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def prune() -> int:
    """Delete the records whose window has passed."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - WINDOW).delete()
    return deleted
