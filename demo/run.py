"""`make run`: PCM with its demo clouds alive.

Starts the two clouds the demo configuration points to, from .venv-peers: moto (an
EC2-compatible endpoint) on 127.0.0.1:5000 for AWSLAB-1 and mimic (OpenStack) on
127.0.0.1:8900 for SNV-LAB-1; a django-q2 cluster (the workers that call the clouds);
then Django's development server on 127.0.0.1:8000. Ctrl-C stops everything it started.
Both emulators keep their state in memory only: after a restart, the reconciler marks
the demo's old instances deleted.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / ".venv-peers" / "bin"
PYTHON = sys.executable
PORT = os.environ.get("PORT", "8000")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_peer(name: str, port: int, command: list[str], started: list) -> None:
    if port_open(port):
        print(f"demo: port {port} is taken; assuming {name} is running there")
        return
    if not Path(command[0]).exists():
        print(f"demo: {command[0]} is missing (make peers); {name} is not started")
        return
    log = (ROOT / "var" / f"{name}.log").open("wb")
    started.append(
        subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT / "var")
    )
    for _ in range(100):
        if port_open(port):
            print(f"demo: {name} listens on 127.0.0.1:{port} (log: var/{name}.log)")
            return
        time.sleep(0.1)
    print(f"demo: {name} did not start; see var/{name}.log")


def _stop(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    (ROOT / "var").mkdir(exist_ok=True)
    started: list[subprocess.Popen] = []
    # The server's /metrics shows the workers' provider calls too: a directory for
    # prometheus_client's multiprocess mode, emptied at each start (docs/observability.md).
    metrics = ROOT / "var" / "prometheus"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()
    env = {
        **os.environ,
        "DEBUG": os.environ.get("DEBUG", "true"),
        "PROMETHEUS_MULTIPROC_DIR": os.environ.get("PROMETHEUS_MULTIPROC_DIR", str(metrics)),
    }
    try:
        start_peer(
            "moto", 5000, [str(PEERS / "moto_server"), "-H", "127.0.0.1", "-p", "5000"], started
        )
        start_peer(
            "mimic",
            8900,
            [
                str(PEERS / "twistd"),
                "-n",
                "--pidfile=",
                "mimic",
                "-l",
                "tcp:8900:interface=127.0.0.1",
                "-r",
            ],
            started,
        )
        manage = [PYTHON, str(ROOT / "manage.py")]
        subprocess.run(
            [*manage, "pcm_demo", "--map-peer-ids", "--check-clouds"], env=env, check=True
        )
        log = (ROOT / "var" / "qcluster.log").open("wb")
        started.append(
            subprocess.Popen([*manage, "qcluster"], env=env, stdout=log, stderr=subprocess.STDOUT)
        )
        print("demo: the django-q2 cluster runs (log: var/qcluster.log)")
        server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{PORT}"], env=env)
        started.append(server)
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
