"""A client's tags on an instance: checked, stored by PCM, and filtered on in lists.

Tags are string keys to string values (EC2's limits: 50 tags, keys of at most 128
characters, values of at most 256). The key `pcm_id` and keys starting with `pcm:` are
PCM's own. Where the cloud's plugin can (`provider_tags`), the tags are also the node's
own tags or metadata (instances/worker/tags.py).
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from pcm.errors import BadRequest
from providers.base import TAG

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
RESERVED_PREFIX = "pcm:"
# Letters, digits, spaces and + - = . _ : / @ (what EC2, OpenStack and the others share).
_KEY = re.compile(r"[\w .:/=+@-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_tags(value) -> dict[str, str]:
    """The client's `tags`: an object of string keys to string values, each checked."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest('tags must be an object of strings, e.g. {"team": "web"}')
    if len(value) > MAX_TAGS:
        raise BadRequest(f"tags: at most {MAX_TAGS} tags, {len(value)} given")
    for key, item in value.items():
        if key == TAG or key.lower().startswith(RESERVED_PREFIX):
            raise BadRequest(f"tags: the key {key!r} is PCM's own (pcm_id and pcm:...)")
        if not key or len(key) > MAX_KEY or not _KEY.fullmatch(key):
            raise BadRequest(
                f"tags: the key {key[:MAX_KEY]!r} is not accepted: 1 to {MAX_KEY} letters, "
                "digits, spaces and + - = . _ : / @"
            )
        if not isinstance(item, str):
            raise BadRequest(f"tags.{key}: the value must be a string")
        if len(item) > MAX_VALUE or _CONTROL.search(item):
            raise BadRequest(
                f"tags.{key}: the value must be at most {MAX_VALUE} characters, without "
                "control characters"
            )
    return dict(sorted(value.items()))


def filter_by_tags(queryset: QuerySet, terms: list[str]) -> QuerySet:
    """Instances that carry every `KEY:VALUE` of `terms` (`KEY` alone: that carry the key).
    A key may hold ':' itself: each split of a term is tried. An empty term asks nothing."""
    for number, term in enumerate(terms):
        if not term:
            continue
        if "\x00" in term:  # no tag holds one (and PostgreSQL takes none in a query)
            return queryset.none()
        matches = Q()
        splits = [i for i, char in enumerate(term) if char == ":"]
        for index in splits:
            alias = f"_tag{number}_{index}"
            # Cast: compared as text (a key transform would read the value as JSON).
            value = Cast(KeyTextTransform(term[:index], "tags"), TextField())
            queryset = queryset.alias(**{alias: value})
            matches |= Q(**{alias: term[index + 1 :]})
        if not splits:
            matches = Q(tags__has_key=term)
        queryset = queryset.filter(matches)
    return queryset
