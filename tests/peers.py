"""Real cloud emulators on loopback, for tests: moto (EC2) and mimic (OpenStack), pinned in
requirements-peers.txt and run from their own virtual environment, .venv-peers (`make peers`)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PEERS_BIN = ROOT / ".venv-peers" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _executable(name: str) -> str:
    path = PEERS_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make peers` (make test does it) to install the peers")
    return str(path)


@contextlib.contextmanager
def serve(command: list[str], url: str, log: Path, env: dict[str, str] | None = None):
    """Start a server, wait until `url` answers, and stop it afterwards."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text()[-2000:]
                    raise RuntimeError(f"{command[0]} did not start: {tail}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Moto:
    url: str
    log: Path

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=60).raise_for_status()


# Make moto refuse what AWS refuses, so that a wrong mapping fails here as it would there.
MOTO_VALIDATION = {
    "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION": "true",
    "MOTO_ENABLE_AMI_VALIDATION": "true",
    "MOTO_ENABLE_KEYPAIR_VALIDATION": "true",
}


@contextlib.contextmanager
def moto_server(tmp: Path, **env: str) -> Iterator[Moto]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / f"moto-{port}.log"
    command = [_executable("moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    with serve(command, f"{url}/moto-api/", log, env={**MOTO_VALIDATION, **env}):
        yield Moto(url=url, log=log)


@dataclass
class Mimic:
    url: str
    log: Path

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity"

    def options(self) -> tuple[dict, dict]:
        """Options and credentials of a fresh tenant: mimic keeps state per tenant."""
        name = uuid.uuid4().hex[:12]
        options = {
            "auth_url": self.auth_url,
            "auth_version": "2.0_password",
            "tenant_name": f"tenant-{name}",
            "region": "ORD",
            "service_name": "cloudServersOpenStack",
            "timeout": 10,
        }
        return options, {"username": f"user-{name}", "password": "mimic-password"}


@contextlib.contextmanager
def mimic_server(tmp: Path) -> Iterator[Mimic]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / f"mimic-{port}.log"
    # -v: mimic logs request bodies, which shows what reached it (scheduler hints).
    command = [
        _executable("twistd"),
        "-n",
        "--pidfile=",
        "mimic",
        "-l",
        f"tcp:{port}:interface=127.0.0.1",
        "-r",
        "-v",
    ]
    with serve(command, f"{url}/", log):
        yield Mimic(url=url, log=log)


@contextlib.contextmanager
def black_hole() -> Iterator[str]:
    """A server that accepts connections and never answers: the hung cloud."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: the cloud that is down."""
    return f"http://127.0.0.1:{free_port()}"
