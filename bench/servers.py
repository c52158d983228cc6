"""The processes the bench starts on loopback (gunicorn, django-q2 clusters) and stops
again, and finding moto's process (tests/peers.py starts it, and keeps its Popen)."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import cpu

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
started: list[subprocess.Popen] = []
_serial = itertools.count(1)  # numbers the servers' logs, as several of a kind may run at once


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], log: str, **env: str) -> subprocess.Popen:
    out = (Path(tempfile.gettempdir()) / f"pcm-bench-{log}.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out)
    started.append(process)
    return process


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, and after 60 s SIGKILL; either way no process of its tree is left (a
    killed qcluster would leave its workers taking tasks from the next section's queue)."""
    family = cpu.tree(process.pid)[1:]
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if process in started:
        started.remove(process)


def stop_all() -> None:
    for process in list(started):
        stop(process)


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def gunicorn(workers: int = 2) -> tuple[subprocess.Popen, str]:
    """A gunicorn of PCM (with the bench's URLs) on a free port, listening; and its URL."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "pcm.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    process = start(command, f"gunicorn-{next(_serial)}")
    wait_port(port)
    return process, f"http://127.0.0.1:{port}"


def cluster(workers: int, **env: str) -> subprocess.Popen:
    """A qcluster of `workers` workers, once all of them exist; at nice 10, as
    docs/deploy.md runs one beside the web server."""
    process = start(
        ["nice", "-n", "10", str(BIN / "python"), "manage.py", "qcluster"],
        f"qcluster-{next(_serial)}-w{workers}",
        PCM_Q_WORKERS=str(workers),
        PCM_WATCH_SECONDS="1",
        **env,
    )
    wait_cluster(process, workers)
    return process


def wait_cluster(process: subprocess.Popen, workers: int, seconds: float = 180) -> None:
    """django-q2's qcluster forks a sentinel, which forks the workers, then a monitor and
    last the pusher that takes tasks from the queue: with all W + 3 descendants there, the
    cluster works (forked workers have Django loaded already). 64 workers take seconds
    to fork on two busy cores; waiting for them keeps that out of a measure."""
    deadline = time.monotonic() + seconds
    while len(cpu.tree(process.pid)) < 1 + workers + 3:
        if process.poll() is not None:
            raise RuntimeError(f"qcluster exited with {process.returncode} (see its log)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"qcluster did not fork its {workers} workers in {seconds} s")
        time.sleep(0.1)
    time.sleep(0.5)  # the pusher's first look at the queue


def moto_pid(url: str) -> int:
    """moto_server's process id: the process under this one that serves `url`'s port."""
    port = url.rsplit(":", 1)[1]
    for pid in cpu.tree(os.getpid())[1:]:
        command = cpu.cmdline(pid)
        if any("moto_server" in part for part in command) and port in command:
            return pid
    raise RuntimeError(f"no moto_server process on port {port}")
