"""A throwaway PostgreSQL database beside a given one, for a run that must not touch it.

scratch_db.py create postgres://user@host:5432/test NAME   prints the new database's URL
scratch_db.py drop postgres://user@host:5432/test URL      drops the database of URL
"""

from __future__ import annotations

import re
import sys

import psycopg
from psycopg import sql


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def create(url: str, name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"not a plain database name: {name}")
    with _admin(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.rsplit("/", 1)[0] + "/" + name


def drop(url: str, scratch: str) -> None:
    if not scratch:
        return
    name = scratch.rsplit("/", 1)[1]
    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


if __name__ == "__main__":
    command, url, arg = sys.argv[1:4]
    if command == "create":
        print(create(url, arg))
    elif command == "drop":
        drop(url, arg)
    else:
        raise SystemExit(__doc__)
