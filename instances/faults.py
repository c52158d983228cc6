"""Crash points for the fault tests (tests/faults/): with PCM_FAULT_POINT set to a point's
name, the worker process kills itself there, with SIGKILL, on an instance's first
attempt, as a power cut would. Unset (always, outside those tests) it does nothing."""

from __future__ import annotations

import os
import signal

from django.conf import settings

POINTS = ("before_provider_call", "after_provider_call", "after_commit")


def crash_point(name: str, attempts: int) -> None:
    if name == settings.PCM_FAULT_POINT and attempts == 1:
        os.kill(os.getpid(), signal.SIGKILL)
