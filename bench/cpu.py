"""Process trees and their CPU time, from /proc (Linux): what a server and every process it
forked have used, for CPU per instance and for knowing when a cluster's workers exist."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")  # /proc's CPU times are in clock ticks


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from its third field (state) on, or None if the process is gone.
    The second field, the command name, may hold spaces and parentheses: split after it."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def _parents() -> dict[int, int]:
    """Every live process's parent: pid -> ppid."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None:
                parents[int(entry.name)] = int(fields[1])
    return parents


def tree(root: int) -> list[int]:
    """`root` and all its live descendants (root first)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def cpu_seconds(root: int) -> float:
    """User and system CPU seconds of the tree under `root`: each live process's own
    (utime + stime), plus what each has collected from children that exited and were
    waited for (cutime + cstime), so a gunicorn worker or django-q2 worker that was
    replaced still counts, and nothing counts twice. A process that exits between the
    walk and the read of its stat is missed for that reading (it moves to its parent's
    cutime once waited for)."""
    ticks = 0
    for pid in tree(root):
        fields = _stat(pid)
        if fields is not None:
            # Fields 14-17 of stat: utime, stime, cutime, cstime (here from field 3 on).
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / TICKS


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []
