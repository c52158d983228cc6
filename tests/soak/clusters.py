"""qcluster processes a test can SIGKILL, whole, at any moment, and start again.

Like tests/instances/test_qcluster.running_qcluster, but each cluster runs in a session of
its own (start_new_session), so that its process group (sentinel, pusher, monitor, the
workers django-q2 forks) can be killed at once, as a machine that loses power would be.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.instances.test_qcluster import ROOT, database_url


class Cluster:
    """One `manage.py qcluster` on the test database, logging (appending) to `log`."""

    def __init__(self, name: str, log: Path, env: dict[str, str]):
        self.name = name
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "pcm.settings",
            **env,
        }
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n==== soak: start #{self.starts} of {self.name} ====\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)  # the group's id is the leader's pid

    def kill(self) -> None:
        """SIGKILL the whole process group: no task is acknowledged, no lease released."""
        self.kills += 1
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=30)
        with self.log.open("ab") as out:
            out.write(f"\n==== soak: {self.name} SIGKILLed ====\n".encode())

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        # Whatever is left of the group (a worker the sentinel did not reap) goes too.
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def started(self) -> bool:
        """Whether the latest start has logged that it runs."""
        text = self.log.read_text(errors="replace")
        return "running." in text.rsplit("==== soak: start", 1)[-1]


class Killer(threading.Thread):
    """Every `every` seconds (a seeded uniform draw), SIGKILL one cluster (a seeded choice
    among those alive) and start it again after a short pause, until stopped. Never both at
    once: the other cluster keeps working meanwhile."""

    def __init__(self, clusters: list[Cluster], seed: int, every=(20.0, 40.0), down=(1.0, 4.0)):
        super().__init__(name="soak-killer", daemon=True)
        self.clusters = clusters
        self.random = random.Random(seed)  # noqa: S311 (chaos, not secrets)
        self.every = every
        self.down = down
        self.stopping = threading.Event()
        self.kills: list[tuple[float, str]] = []  # (monotonic time, cluster name)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.wait(self.random.uniform(*self.every)):
                victim = self.random.choice(self.clusters)
                if not victim.alive():
                    victim.start()
                    continue
                victim.kill()
                self.kills.append((time.monotonic(), victim.name))
                print(f"soak: SIGKILLed {victim.name} (kill #{len(self.kills)})", flush=True)
                self.stopping.wait(self.random.uniform(*self.down))
                victim.start()
        except BaseException as exc:
            self.error = exc

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)
        for cluster in self.clusters:  # a kill's restart cut short by stop()
            if not cluster.alive():
                cluster.start()
