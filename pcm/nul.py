"""NUL characters are refused wherever input arrives: path, query string and JSON body.

PostgreSQL cannot store a NUL in text (psycopg refuses it before sending: a DataError, so
a 500), SQLite stores it, and no name, tag or key PCM takes has a use for one. Refusing it
at the door, with the place named, makes both databases answer the same 400.
"""

from __future__ import annotations

from typing import Any

NUL = "\x00"


def where_in(data: Any, prefix: str = "") -> str | None:
    """The dotted path of the first string (or key) holding a NUL in parsed JSON, if any."""
    if isinstance(data, str):
        return prefix or "body" if NUL in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            inner = f"{prefix}.{key}" if prefix else str(key)
            if NUL in str(key):
                return inner.replace(NUL, "\\u0000")
            found = where_in(value, inner)
            if found:
                return found
    if isinstance(data, list):
        for index, item in enumerate(data):
            found = where_in(item, f"{prefix}[{index}]" if prefix else f"[{index}]")
            if found:
                return found
    return None


def in_query(query) -> str | None:
    """The first query parameter (a QueryDict) whose name or a value holds a NUL."""
    for name, values in query.lists():
        if NUL in name or any(NUL in value for value in values):
            return name.replace(NUL, "\\u0000")
    return None


def message(place: str) -> str:
    return f"NUL characters (\\u0000) are not accepted: {place}"
